using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Web.Tests;

internal static class TestRepos
{
    /// <summary>A repository whose main branch holds <paramref name="pipeline"/> as .slipway.yml.</summary>
    public static GitRepository WithPipeline(string pipeline, string message = "pipeline")
    {
        var repo = GitRepository.Create();
        try
        {
            repo.WriteFile(".slipway.yml", pipeline.Replace("\r\n", "\n"));
            repo.Commit(message);
            return repo;
        }
        catch
        {
            repo.Dispose();
            throw;
        }
    }

    /// <summary>The run the project's creation started on its default branch.</summary>
    public static async Task<RunSummaryDto> FirstRunAsync(SlipwayTestServer server, string project)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var runs = await server.Client.ListRunsAsync(project);
            if (runs.Count > 0) return runs.OrderBy(r => r.Id).First();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"project {project} has no run");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Lets the server see the repository's new commits at once (what a push webhook or the poller does) and waits
    /// for the run of <paramref name="branch"/>'s head to end.
    /// </summary>
    public static async Task<RunDto> RunHeadAsync(SlipwayTestServer server, string project, GitRepository repo, string branch)
    {
        var head = repo.Run("rev-parse", branch).Trim();
        var row = await server.Service<ProjectStore>().FindAsync(project) ?? throw new InvalidOperationException($"no project {project}");
        await server.Service<ChangeDetector>().CheckAsync(row);
        var run = (await server.Client.ListRunsAsync(project)).Where(r => r.Branch == branch && r.Commit == head).MaxBy(r => r.Id)
                  ?? throw new InvalidOperationException($"no run of {branch} at {head}");
        return await server.WaitForRunAsync(run.Id);
    }

    /// <summary>Waits for the release of a run (made in the background after the run succeeded).</summary>
    public static async Task<ReleaseSummaryDto> ReleaseOfAsync(SlipwayTestServer server, string project, long runId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var found = (await server.Client.ListReleasesAsync(project)).FirstOrDefault(r => r.RunId == runId);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no release of run {runId}");
            await Task.Delay(100);
        }
    }
}
