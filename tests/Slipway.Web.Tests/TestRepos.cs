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
}
