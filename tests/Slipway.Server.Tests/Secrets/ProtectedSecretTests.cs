using System.Security.Cryptography;
using System.Text;
using Slipway.Contracts.Api;
using Slipway.Server.Git;
using Slipway.Server.Projects;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Secrets;

/// <summary>
/// Issue 11, finding 4: protected variables and secrets reach only runs of protected branches (and deployments). A
/// developer's branch writes its own pipeline file, so it is the hostile party here; jobs report through their logs.
/// </summary>
public sealed class ProtectedSecretTests
{
    private const string Key = "pr0d-deploy-key-value";

    /// <summary>main's job: proves it got the key by its digest (never the value), and which plain variables reached it.</summary>
    private const string MainPipeline = """
        stages:
          - name: s
            jobs:
              - name: use
                secrets: [DEPLOY_KEY]
                run: |
                  echo "key-sha256: $(printf %s "$DEPLOY_KEY" | sha256sum | cut -d' ' -f1)"
                  echo "region: ${REGION:-absent} open: ${OPEN:-absent}"
        """;

    /// <summary>A branch's job that would print the key in a form masking does not catch.</summary>
    private const string LeakingPipeline = """
        stages:
          - name: s
            jobs:
              - name: leak
                secrets: [DEPLOY_KEY]
                run: printf %s "$DEPLOY_KEY" | od -An -tx1
        """;

    private const string PlainPipeline = """
        stages:
          - name: s
            jobs:
              - name: look
                run: |
                  echo "region: ${REGION:-absent} open: ${OPEN:-absent}"
        """;

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>A repository whose main has <see cref="MainPipeline"/> and a branch per (name, pipeline file).</summary>
    private static GitRepository Repo(params (string Branch, string Pipeline)[] branches)
    {
        var repo = Pipelines.Repo(MainPipeline);
        foreach (var (branch, pipeline) in branches)
        {
            repo.Run("checkout", "-q", "-b", branch);
            repo.WriteFile(".slipway.yml", pipeline);
            repo.Commit($"{branch}'s pipeline");
            repo.Checkout("main");
        }
        return repo;
    }

    private static async Task<SlipwayTestServer> ShopAsync(GitRepository repo)
    {
        var server = await SlipwayTestServer.StartAsync();
        // The first run of main starts at once; it is not what these tests look at.
        await server.WaitForRunAsync(await server.CreateProjectAsync("shop", repo.Path));
        return server;
    }

    [Fact]
    public async Task ABranchJobListingAProtectedSecret_FailsAtPlanning_NamingSecretAndRule_AndNeverGetsIt_WhileMainsJobDoes()
    {
        using var repo = Repo(("feature/leak", LeakingPipeline));
        await using var server = await ShopAsync(repo);
        var stored = await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Key, secret: true);

        var branch = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/leak", null)).Id);
        var main = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "main", null)).Id);

        Assert.True(stored.Protected); // a new secret is protected unless told otherwise
        Assert.Equal("failed", branch.Status);
        Assert.Empty(branch.Stages); // nothing ran, so nothing could print the key
        Assert.Equal([".slipway.yml:1:1: protected-secret: job 'leak' lists secret 'DEPLOY_KEY', which is protected; protected values are given only " +
                      "to runs of protected branches and to deployments, and branch 'feature/leak' is not protected"], branch.LintErrors);
        Assert.Equal("succeeded", main.Status);
        Assert.Contains($"key-sha256: {Sha256(Key)}", await server.LogAsync(main.Id, "use"));
    }

    [Fact]
    public async Task AnUnprotectedSecret_StillReachesABranchJobThatListsIt()
    {
        using var repo = Repo(("feature/use", MainPipeline));
        await using var server = await ShopAsync(repo);
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Key, secret: true, isProtected: false);

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/use", null)).Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Contains($"key-sha256: {Sha256(Key)}", await server.LogAsync(run.Id, "use"));
    }

    [Fact]
    public async Task AProtectedPlainVariable_IsWithheldFromBranchJobs_AndGivenToMain()
    {
        using var repo = Repo(("feature/look", PlainPipeline));
        await using var server = await ShopAsync(repo);
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Key, secret: true);
        var region = await server.Client.SetVariableAsync("shop", "REGION", "eu-west", secret: false, isProtected: true);
        var open = await server.Client.SetVariableAsync("shop", "OPEN", "yes", secret: false);

        var branch = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/look", null)).Id);
        var main = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "main", null)).Id);

        Assert.Equal((true, false), (region.Protected, open.Protected)); // a plain variable is unprotected unless told
        Assert.Equal(("succeeded", "succeeded"), (branch.Status, main.Status));
        Assert.Contains("region: absent open: yes", await server.LogAsync(branch.Id, "look"));
        Assert.Contains("region: eu-west open: yes", await server.LogAsync(main.Id, "use"));
    }

    [Fact]
    public async Task ASecretProtectedAfterTheRunWasPlanned_FailsTheBranchJobWhenItIsHandedOut_WithoutRetry()
    {
        const string late = """
            stages:
              - name: first
                jobs:
                  - name: wait
                    run: sleep 3
              - name: second
                jobs:
                  - name: use
                    secrets: [TOKEN]
                    retry: 2
                    run: echo "this-must-not-run"
            """;
        using var repo = Repo(("feature/late", late));
        await using var server = await ShopAsync(repo);
        await server.Client.SetVariableAsync("shop", "TOKEN", "t0ken-value", secret: true, isProtected: false);

        var id = (await server.Client.StartRunAsync("shop", "feature/late", null)).Id; // planned while TOKEN is unprotected
        await server.Client.SetVariableAsync("shop", "TOKEN", "t0ken-value", secret: true, isProtected: true);
        var run = await server.WaitForRunAsync(id);

        Assert.Equal("failed", run.Status);
        var job = run.Stages[1].Jobs.Single();
        Assert.Equal(("failed", 1), (job.Status, job.Attempt)); // not retried: another attempt would be refused the same way
        Assert.StartsWith("protected-secret: job 'use' lists secret 'TOKEN', which is protected", job.FailureReason);
        var log = await server.LogAsync(id, "use");
        Assert.Contains("protected-secret", log);
        Assert.DoesNotContain("this-must-not-run", log);
    }

    /// <summary>
    /// A developer pushes release/2 before anyone protects that name; its run fails (the secret does not exist yet). The
    /// admin then makes release/2 from main, protects it and sets the secret. Retrying the old run must not hand the
    /// developer's commit the protected values: the run was made while the branch was anyone's.
    /// </summary>
    [Fact]
    public async Task RetryingARunMadeBeforeItsBranchWasProtected_NeverGetsProtectedValues_WhileANewRunOfTheBranchDoes()
    {
        const string planted = """
            stages:
              - name: s
                jobs:
                  - name: leak
                    secrets: [DEPLOY_KEY]
                    run: |
                      printf %s "$DEPLOY_KEY" | od -An -tx1
                      echo "region: ${REGION:-absent}"
            """;
        using var repo = Repo(("release/2", planted));
        await using var server = await ShopAsync(repo);
        var old = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "release/2", null)).Id);
        Assert.StartsWith("secret 'DEPLOY_KEY' is not defined", old.Stages[0].Jobs.Single().FailureReason);

        repo.Run("branch", "-f", "release/2", "main");
        await server.Client.ProtectBranchAsync("shop", "release/2");
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Key, secret: true);
        await server.Client.SetVariableAsync("shop", "REGION", "eu-west", secret: false, isProtected: true);
        // The server sees release/2 moved (as a poll or a webhook would) and runs its new head, main's commit.
        await server.Service<ChangeDetector>().CheckAsync((await server.Service<ProjectStore>().FindAsync("shop"))!);
        var main = repo.Run("rev-parse", "main").Trim();
        var fresh = await server.WaitForRunAsync((await server.Client.ListRunsAsync("shop")).Single(r => r.Branch == "release/2" && r.Commit == main).Id);
        await server.Client.RetryRunAsync(old.Id, null);
        var retried = await server.WaitForRunAsync(old.Id);

        var job = retried.Stages[0].Jobs.Single();
        Assert.Equal(("failed", 2), (job.Status, job.Attempt));
        Assert.Equal("protected-secret: job 'leak' lists secret 'DEPLOY_KEY', which is protected; protected values are given only to runs of " +
                     "protected branches and to deployments, and this run was made before branch 'release/2' was protected (its commit did not " +
                     "come through the branch's merges): start a new run of the branch", job.FailureReason);
        var log = await server.LogAsync(old.Id, "leak");
        Assert.Contains("protected-secret", log);
        Assert.DoesNotContain("70 72 30 64", log); // the key's first bytes as od prints them: the script never ran
        Assert.DoesNotContain("region:", log);
        Assert.Equal("succeeded", fresh.Status);
        Assert.Contains($"key-sha256: {Sha256(Key)}", await server.LogAsync(fresh.Id, "use"));
        Assert.Contains("region: eu-west", await server.LogAsync(fresh.Id, "use"));
    }

    [Fact]
    public async Task TheProtectedFlag_IsListed_KeptOnChange_AndAudited()
    {
        using var repo = Repo();
        await using var server = await ShopAsync(repo);

        await server.Client.SetVariableAsync("shop", "KEY", Key, secret: true);
        await server.Client.SetVariableAsync("shop", "OPEN_KEY", Key, secret: true, isProtected: false);
        await server.Client.SetVariableAsync("shop", "REGION", "eu-west", secret: false, isProtected: true);
        await server.Client.SetVariableAsync("shop", "REGION", "eu-north", secret: false); // a new value keeps the flag
        await server.Client.SetVariableAsync("shop", "OPEN_KEY", Key + "2", secret: true);

        var listed = (await server.Client.ListVariablesAsync("shop")).ToDictionary(v => v.Name, v => v.Protected);
        Assert.Equal(new Dictionary<string, bool> { ["KEY"] = true, ["OPEN_KEY"] = false, ["REGION"] = true }, listed);
        var audit = await AuditAsync(server, "action=variable.write&outcome=succeeded");
        Assert.Contains(audit, e => e.Target == "project:shop variable:KEY" && e.Detail!.StartsWith(
            "secret set (value not recorded), protected: only protected branches and deployments get it"));
        Assert.Contains(audit, e => e.Target == "project:shop variable:OPEN_KEY" && e.Detail!.Contains("unprotected: every branch's jobs may get it"));
    }
}
