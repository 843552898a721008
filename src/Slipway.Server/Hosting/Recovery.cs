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
    /// <summary>
    /// The embedded agent's name: "embedded" on SQLite (one node), "embedded-NODE" on PostgreSQL, where several nodes
    /// each run one and a node's restart must resolve only its own agent's jobs, never another node's.
    /// </summary>
    public static string EmbeddedAgentName(ServerOptions options) =>
        string.IsNullOrEmpty(options.Database) ? EmbeddedPrefix : $"{EmbeddedPrefix}-{options.NodeName}";

    private const string EmbeddedPrefix = "embedded";

    /// <summary>Names only embedded agents may have: "embedded" and "embedded-…".</summary>
    public static bool IsReservedAgentName(string name) =>
        name == EmbeddedPrefix || name.StartsWith(EmbeddedPrefix + "-", StringComparison.Ordinal);

    public static async Task ResolveEmbeddedAgentJobsAsync(IServiceProvider services, ILogger log)
    {
        var agent = await services.GetRequiredService<AgentStore>().FindAsync(EmbeddedAgentName(services.GetRequiredService<ServerOptions>()));
        if (agent is null) return;
        var change = await services.GetRequiredService<JobLeaseStore>().ResolveJobsOfAgentAsync(agent.Id,
            $"{JobLeaseStore.AgentLost}: the server restarted while this job ran on its embedded agent", services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds());
        if (change.Jobs.Count > 0)
            log.LogWarning("resolved {Count} jobs left running by the previous server process: {Jobs}", change.Jobs.Count, string.Join(", ", change.Jobs));
        services.GetRequiredService<JobEvents>().Finished(change);
    }
}
