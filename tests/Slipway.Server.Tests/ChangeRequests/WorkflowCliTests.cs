using System.Text.RegularExpressions;
using Slipway.Core.Access;
using Slipway.Server.Tests.EndToEnd;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>
/// The issue's whole flow from the command line on a hosted repository: an analyst creates SHOP-1, a developer pushes
/// feature/SHOP-1-x with git, its run goes green, the developer opens a change request, another developer approves
/// it, the first merges it, and release 1.4.N contains SHOP-1, whose item page shows every step with who.
/// </summary>
public sealed partial class WorkflowCliTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: test
                run: echo tested
        release:
          branch: main
          version: "1.4.{run}"
        """;

    private static Task<(int Exit, string Out, string Err)> As(SlipwayTestServer server, string token, params string[] args) =>
        CliRunner.AsAsync(server, token, args);

    private static string Git(string cwd, params string[] args) =>
        ProcessRunner.Run(GitRepository.GitPath,
            ["-c", "credential.helper=", "-c", "user.name=Dev One", "-c", "user.email=dev1@shop.invalid", "-c", "commit.gpgsign=false", .. args], cwd,
            new Dictionary<string, string?> { ["GIT_TERMINAL_PROMPT"] = "0", ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null" },
            TimeSpan.FromSeconds(60)) is { ExitCode: 0 } ok ? ok.StdOut : throw new InvalidOperationException($"git {string.Join(' ', args)} failed");

    private static void Ok((int Exit, string Out, string Err) result) => Assert.True(result.Exit == 0, result.Err + result.Out);

    [Fact]
    public async Task RequestToRelease_OnAHostedRepository_FromTheCli()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        var admin = SlipwayTestServer.AdminToken;
        Ok(await As(server, admin, "project", "create", "shop", "--hosted"));
        Ok(await As(server, admin, "project", "set-key", "shop", "SHOP"));
        var ann = await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst);
        var dev1 = await UserWithRoleAsync(server, "dev1", BuiltInRoles.Developer);
        var dev2 = await UserWithRoleAsync(server, "dev2", BuiltInRoles.Developer);

        var item = await As(server, ann, "item", "create", "shop", "--title", "Cart shows the total");
        Assert.Contains("created SHOP-1", item.Out);

        using var dir = new TempDirectory("slipway-flow");
        var uri = new Uri(server.Url);
        Git(dir.Path, "clone", "--quiet", $"http://x:{dev1}@{uri.Host}:{uri.Port}/git/shop.git", "shop");
        var clone = Path.Combine(dir.Path, "shop");
        Git(clone, "checkout", "--quiet", "-b", "main");
        File.WriteAllText(Path.Combine(clone, ".slipway.yml"), Pipeline);
        Git(clone, "add", ".slipway.yml");
        Git(clone, "commit", "--quiet", "-m", "pipeline");
        Git(clone, "push", "--quiet", "origin", "main");
        Git(clone, "checkout", "--quiet", "-b", "feature/SHOP-1-x");
        File.WriteAllText(Path.Combine(clone, "cart.txt"), "total\n");
        Git(clone, "add", "cart.txt");
        Git(clone, "commit", "--quiet", "-m", "Cart total (SHOP-1)");
        Git(clone, "push", "--quiet", "origin", "feature/SHOP-1-x");
        var head = Git(clone, "rev-parse", "HEAD").Trim();
        var featureRun = (await server.Client.ListRunsAsync("shop")).Single(r => r.Commit == head);
        Assert.Equal("succeeded", (await server.WaitForRunAsync(featureRun.Id)).Status);

        var open = await As(server, dev1, "cr", "open", "shop", "--source", "feature/SHOP-1-x", "--title", "Cart total");
        Ok(open);
        Assert.Contains("opened change request #1: feature/SHOP-1-x into main (1 commit)", open.Out);
        var early = await As(server, dev1, "cr", "merge", "shop", "1");
        Assert.Equal(1, early.Exit);
        // A heading, then each unmet rule once on its own line: the refusal's one-line list is not printed again.
        var unmet = early.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("  unmet: ")).ToList();
        Assert.Contains(unmet, l => l.StartsWith("  unmet: approvals: "));
        Assert.StartsWith($"error: cannot merge change request #1: {(unmet.Count == 1 ? "1 rule" : $"{unmet.Count} rules")} not met", early.Err);
        foreach (var line in unmet)
            Assert.Equal(1, Regex.Matches(early.Err, Regex.Escape(line["  unmet: ".Length..])).Count);
        var own = await As(server, dev1, "cr", "review", "shop", "1", "--approve");
        Assert.Equal(1, own.Exit);
        Assert.Contains("dev1 wrote this change request", own.Err);
        var approve = await As(server, dev2, "cr", "review", "shop", "1", "--approve", "--comment", "good");
        Ok(approve);
        Assert.Contains("ready to merge (merge)", approve.Out);
        var merge = await As(server, dev1, "cr", "merge", "shop", "1");
        Ok(merge);
        Assert.Contains("merged change request #1 into main (merge)", merge.Out);

        // The first push of main made release 1.4.1; the merge's run on main makes the next, whose notes name SHOP-1.
        string? version = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (version is null && DateTime.UtcNow < deadline)
        {
            var versions = VersionLine().Matches((await As(server, ann, "release", "list", "shop")).Out).Select(m => m.Groups[1].Value).ToList();
            version = versions.FirstOrDefault(v => v != "1.4.1");
            if (version is null) await Task.Delay(200);
        }
        Assert.NotNull(version);
        var show = await As(server, ann, "release", "show", "shop", version!);
        Assert.Contains("SHOP-1", show.Out);
        Assert.Contains("SHOP-1", (await As(server, ann, "release", "notes", "shop", version!)).Out);

        var timeline = (await As(server, ann, "item", "show", "shop", "1")).Out;
        Assert.Contains("state: released", timeline);
        foreach (var (step, who) in new[]
                 {
                     ("created", "ann"), ("branch feature/SHOP-1-x", "Dev One <dev1@shop.invalid>"), ("change request #1 opened", "dev1"),
                     ("review of change request #1: approved: good", "dev2"),
                     ("change request #1 merged", "dev1"), ($"release {version}", "(automatic)"),
                 })
            Assert.Matches($@"(?m)^\S+ \S+\s+{Regex.Escape(step)}.*{Regex.Escape(who)}", timeline);
        // A token that may read items only (a tracker's sync) sees where the item stands, not the change request, its review
        // or the release: those need cr.read and release.read, as on their own pages.
        var scoped = await As(server, ann, "token", "create", "tracker-sync", "--scope", "item.read", "--json");
        Ok(scoped);
        var itemOnly = System.Text.Json.JsonDocument.Parse(scoped.Out).RootElement.GetProperty("token").GetString()!;
        var seen = (await As(server, itemOnly, "item", "show", "shop", "1", "--json")).Out;
        using (var shown = System.Text.Json.JsonDocument.Parse(seen))
        {
            var kinds = shown.RootElement.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
            Assert.Contains("created", kinds);
            Assert.DoesNotContain("review", kinds);
            Assert.DoesNotContain("change_request", kinds);
            Assert.DoesNotContain("release", kinds);
            Assert.Equal(0, shown.RootElement.GetProperty("changeRequests").GetArrayLength());
            Assert.Equal(0, shown.RootElement.GetProperty("releases").GetArrayLength());
        }
        Assert.DoesNotContain("good", seen); // dev2's review comment
        // Pushing to main directly is still refused: only Slipway's merge moved it.
        Git(clone, "checkout", "--quiet", "main");
        File.WriteAllText(Path.Combine(clone, "direct.txt"), "x\n");
        Git(clone, "add", "direct.txt");
        Git(clone, "commit", "--quiet", "-m", "direct");
        Assert.Throws<InvalidOperationException>(() => Git(clone, "push", "--quiet", "origin", "main"));
    }

    [GeneratedRegex(@"(?m)^(1\.4\.\d+)\s.*main")]
    private static partial Regex VersionLine();
}
