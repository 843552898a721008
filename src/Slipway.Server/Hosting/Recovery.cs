using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Slipway.Server.Hosting;

/// <summary>
/// Start-up recovery after a crash. Jobs that ran on this server's embedded agent died with the previous
/// process: they are failed with that reason (or re-queued if they have retries left) at once. Jobs on
/// external agents keep their leases: a live agent renews and finishes them; a dead one loses the lease
/// and the sweeper resolves the job. So no run stays "running" forever.
/// </summary>
public static class Recovery
{
    public const string EmbeddedAgentName = "embedded";

    public static async Task ResolveEmbeddedAgentJobsAsync(IServiceProvider services, ILogger log)
    {
        var agent = await services.GetRequiredService<AgentStore>().FindAsync(EmbeddedAgentName);
        if (agent is null) return;
        var change = await services.GetRequiredService<JobLeaseStore>().ResolveJobsOfAgentAsync(agent.Id,
            $"{JobLeaseStore.AgentLost}: the server restarted while this job ran on its embedded agent", services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds());
        if (change.Jobs.Count > 0)
            log.LogWarning("resolved {Count} jobs left running by the previous server process: {Jobs}", change.Jobs.Count, string.Join(", ", change.Jobs));
        services.GetRequiredService<JobEvents>().Finished(change);
    }
}
