using Slipway.Testing;

namespace Slipway.Server.Tests.LastMile;

/// <summary>Node tasks (scripts and up to 64 KiB of output each) of long-ended jobs are pruned; those of recent or running jobs stay.</summary>
public sealed class NodeTaskPruningTests
{
    [Fact]
    public async Task TheTasksOfAJobThatEndedLongAgo_ArePruned_OthersStay()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("stages:\n  - name: build\n    jobs:\n      - name: pack\n        run: echo built\n");
        var run = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        var job = (await server.Service<RunStore>().GetAsync(run.Id))!.Jobs.Single();
        Assert.NotNull(job.FinishedAt);
        var tasks = server.Service<NodeTaskStore>();
        var id = await tasks.CreateAsync(job.Id, "web-1", "node-1", "{}", null, job.FinishedAt!.Value);

        // Ended, but not before the cut-off: kept.
        Assert.Equal(0, await tasks.PruneAsync(job.FinishedAt.Value - 1));
        Assert.NotNull(await tasks.GetAsync(id));
        // Ended before the cut-off (a day ago, as the sweeper asks): gone.
        Assert.Equal(1, await tasks.PruneAsync(job.FinishedAt.Value + 1));
        Assert.Null(await tasks.GetAsync(id));
    }
}
