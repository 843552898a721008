using System.Net;
using Slipway.Client;
using Slipway.Testing;

namespace Slipway.Server.Tests.Faults;

public sealed class BadInputTests
{
    [Fact]
    public async Task InvalidPipelineFile_GivesFailedRunShowingLintErrors()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("stages:\n  - name: s\n    jobs:\n      - name: j\n        run: true\n        artefacts: [x]\n");
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.Equal("failed", run.Status);
        Assert.Empty(run.Stages);
        var error = Assert.Single(run.LintErrors);
        Assert.Equal(".slipway.yml:6:9: stages[0].jobs[0].artefacts: unknown key 'artefacts' in a job; did you mean 'artifacts'?", error);
    }

    [Fact]
    public async Task PipelineFileOverOneMegabyte_GivesFailedRunWithSizeError()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo("# " + new string('x', 3 * 1024 * 1024) + "\nstages: []\n");
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.Equal("failed", run.Status);
        Assert.Contains(run.LintErrors, e => e.StartsWith(".slipway.yml:1:1:") && e.Contains("the limit is 1048576 bytes"));
    }

    [Fact]
    public async Task CommitWithoutPipelineFile_GivesFailedRunSayingSo()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = GitRepository.Create();
        repo.WriteFile("README", "no pipeline here");
        repo.Commit("no pipeline");
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.Equal("failed", run.Status);
        Assert.Contains(run.LintErrors, e => e.Contains("has no .slipway.yml"));
    }

    [Fact]
    public async Task UnreachableRepository_IsRefusedAtCreateWithGitsError()
    {
        await using var server = await SlipwayTestServer.StartAsync();

        var error = await Assert.ThrowsAsync<SlipwayApiException>(() =>
            server.Client.CreateProjectAsync("p", "/nonexistent/repository/path", "main"));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Contains("cannot fetch /nonexistent/repository/path", error.Message);
        Assert.Contains("does not exist", error.Message); // git's own words
        Assert.Empty(await server.Client.ListProjectsAsync());
    }

    [Theory]
    [InlineData("feat/$(touch${{IFS}}{0})")]
    [InlineData("x\";touch${{IFS}}{0};\"")]
    [InlineData("y`touch${{IFS}}{0}`")]
    public async Task HostileBranchName_IsNeverExecuted_AndShownAsText(string pattern)
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var scratch = new TempDirectory();
        var marker = Path.Combine(scratch.Path, "pwned");
        var branch = string.Format(pattern, marker);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo \"branch is: $SLIPWAY_BRANCH\"\nprintf '%s\\n' \"$SLIPWAY_BRANCH\" > branch.txt"));
        repo.Run("branch", "--", branch);
        await server.Client.CreateProjectAsync("p", repo.Path, "main");

        var id = (await server.Client.StartRunAsync("p", branch, null)).Id;
        var run = await server.WaitForRunAsync(id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(branch, run.Branch);
        Assert.Contains($"branch is: {branch}", await server.LogAsync(id, "j"));
        Assert.False(File.Exists(marker), "the branch name was executed");
        var projectBranches = await server.Client.ListBranchesAsync("p");
        Assert.Contains(projectBranches, b => b.Name == branch);
    }

    [Theory]
    [InlineData("feat/$(touch {0})")]
    [InlineData("x\";id;touch {0};\"")]
    public async Task BranchNameGitRefuses_IsRefusedByTheApi_AndNothingRuns(string pattern)
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var scratch = new TempDirectory();
        var marker = Path.Combine(scratch.Path, "pwned");
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        await server.WaitForRunAsync((await server.Client.ListRunsAsync("p")).Single().Id);

        var error = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.StartRunAsync("p", string.Format(pattern, marker), null));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Contains("has no branch", error.Message);
        Assert.Single(await server.Client.ListRunsAsync("p"));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task CommitMessageWithShellText_ReachesStepOnlyAsData()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var scratch = new TempDirectory();
        var marker = Path.Combine(scratch.Path, "pwned");
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        repo.WriteFile("x.txt", "x");
        repo.Commit($"msg $(touch {marker}) `touch {marker}`");
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        Assert.Equal("succeeded", run.Status);
        Assert.Contains("$(touch", run.CommitMessage);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task StartRun_OnUnknownBranchOrCommit_IsRefused()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");

        var noBranch = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.StartRunAsync("p", "nope", null));
        var noCommit = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.StartRunAsync("p", "main", "--upload-pack=evil"));
        var noProject = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.StartRunAsync("zzz", "main", null));

        Assert.Equal(HttpStatusCode.BadRequest, noBranch.Status);
        Assert.Equal(HttpStatusCode.BadRequest, noCommit.Status);
        Assert.Equal(HttpStatusCode.NotFound, noProject.Status);
    }
}
