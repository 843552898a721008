namespace Slipway.Contracts.Agents;

/// <summary>
/// The agent protocol as calls (docs/agent-protocol.md has the order, the statuses and the lease rules): what an agent
/// asks of the server. The agent's HTTP client implements it over <see cref="AgentRoutes"/>; the server maps the same
/// routes. Every job call after <see cref="PollAsync"/> carries the job's lease; a refused lease ends the job on the agent.
/// </summary>
public interface IAgentProtocol
{
    /// <summary>Registers (or re-registers) this agent with a registration token; the answer holds the agent's own credential.</summary>
    Task<RegisterAgentResponse> RegisterAsync(string registrationToken, RegisterAgentRequest request, CancellationToken ct);

    /// <summary>Sends the agent's credential on every later call.</summary>
    void UseCredential(string credential);

    /// <summary>Long-polls for a job for one of <paramref name="freeSlots"/>; null when none came within <paramref name="wait"/>.</summary>
    Task<JobLease?> PollAsync(int freeSlots, TimeSpan wait, CancellationToken ct);

    /// <summary>The job's source: a tar stream of the commit.</summary>
    Task<Stream> SourceAsync(JobLease lease, CancellationToken ct);

    /// <summary>Tells the server the job's first step starts now.</summary>
    Task StartAsync(JobLease lease, CancellationToken ct);

    /// <summary>Renews the lease; the server holds the call up to <paramref name="wait"/> unless cancellation is asked.</summary>
    Task<RenewResponse> RenewAsync(JobLease lease, TimeSpan wait, CancellationToken ct);

    /// <summary>Appends masked log bytes.</summary>
    Task<LogAppendResponse> AppendLogAsync(JobLease lease, ReadOnlyMemory<byte> bytes, CancellationToken ct);

    /// <summary>Uploads one artifact file.</summary>
    Task<ArtifactRef> UploadArtifactAsync(JobLease lease, string relativePath, bool executable, Stream content, CancellationToken ct);

    /// <summary>Downloads an artifact an earlier job of the run produced.</summary>
    Task<Stream> DownloadArtifactAsync(JobLease lease, string sha256, CancellationToken ct);

    /// <summary>Reports one target's progress in a rolling deployment (<see cref="JobLease.Rollout"/>).</summary>
    Task ReportTargetAsync(JobLease lease, TargetProgressRequest progress, CancellationToken ct);

    /// <summary>Waits up to <paramref name="wait"/> for a deployer's decision on a paused target (protocol 6); null when none came.</summary>
    Task<TargetDecisionDto?> TargetDecisionAsync(JobLease lease, string target, TimeSpan wait, CancellationToken ct);

    /// <summary>Stores a file a node task uploads (protocol 6); the answer names it by digest.</summary>
    Task<NodeFileStored> UploadNodeFileAsync(JobLease lease, Stream content, CancellationToken ct);

    /// <summary>Hands one step of a node-agent target to its node agent (protocol 6).</summary>
    Task<NodeTaskCreated> CreateNodeTaskAsync(JobLease lease, NodeTaskRequest request, CancellationToken ct);

    /// <summary>A node task's state, held up to <paramref name="wait"/> until it is final.</summary>
    Task<NodeTaskStatus> NodeTaskStatusAsync(JobLease lease, long taskId, TimeSpan wait, CancellationToken ct);

    /// <summary>A node agent's long poll for its next task; null when none came within <paramref name="wait"/>.</summary>
    Task<NodeTask?> NodePollAsync(TimeSpan wait, CancellationToken ct);

    /// <summary>The content an upload task puts on the node.</summary>
    Task<Stream> NodeTaskFileAsync(long taskId, CancellationToken ct);

    /// <summary>Asks, while a task runs, whether it must stop (its rollout's job has ended).</summary>
    Task<NodeTaskCheck> NodeTaskCheckAsync(long taskId, CancellationToken ct);

    /// <summary>A node agent reports a task's end.</summary>
    Task NodeTaskFinishAsync(long taskId, NodeTaskFinish result, CancellationToken ct);

    /// <summary>Reports the job's end: exit code, failure reason, test summary.</summary>
    Task FinishAsync(JobLease lease, FinishJobRequest request, CancellationToken ct);
}
