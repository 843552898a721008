namespace Slipway.Contracts.Agents;

// Wire messages of the agent protocol (docs/agent-protocol.md). JSON, camelCase.
// Call order: register -> poll -> start -> (log | renew | upload artifact)* -> finish.

/// <summary>POST /api/v1/agent/register, authorized by a registration token (bearer).</summary>
public sealed record RegisterAgentRequest(int ProtocolVersion, string Name, string Pool, IReadOnlyList<string> Labels, int Slots, string? Target = null);

/// <summary>The agent's own credential, shown once. <c>Status</c> is <c>approved</c> or <c>pending</c>.</summary>
public sealed record RegisterAgentResponse(long AgentId, string Name, string Credential, string Status);

/// <summary>POST /api/v1/agent/poll: long-poll for one job. 204 when nothing came within the wait.</summary>
public sealed record PollRequest(int FreeSlots, int WaitSeconds);

/// <summary>
/// A job handed to an agent as a lease. The agent must renew before <c>LeaseExpiresAt</c>.
/// <c>SecretNames</c> names the entries of <c>Env</c> that hold secret values: the agent masks those values in
/// everything it sends back (protocol version 2). <see cref="ToString"/> leaves out the environment so a lease
/// written to a log never shows a secret.
/// </summary>
public sealed record JobLease(
    long JobId,
    string LeaseId,
    DateTimeOffset LeaseExpiresAt,
    int LeaseSeconds,
    long RunId,
    string Project,
    string Branch,
    string Commit,
    string JobName,
    string Script,
    IReadOnlyDictionary<string, string> Env,
    int TimeoutSeconds,
    long LogLimitBytes,
    IReadOnlyList<string> ArtifactGlobs,
    IReadOnlyList<string> ReportGlobs,
    IReadOnlyList<ArtifactRef> DownloadArtifacts,
    IReadOnlyList<string> SecretNames,
    RolloutJob? Rollout = null,
    string? MetricsFile = null)
{
    public override string ToString() => $"JobLease {{ JobId = {JobId}, JobName = {JobName}, RunId = {RunId}, Project = {Project} }}";
}

/// <summary>
/// Protocol 5: a rolling deployment the agent carries out itself instead of running <c>Script</c>. The plan is fixed by the
/// server when the deployment starts (batches in order, every target's address and pinned host key, the load balancers);
/// the agent reports each target's progress with <see cref="TargetProgressRequest"/>. The SSH private key (and its
/// passphrase) are secrets of the lease's <c>Env</c>, named by <see cref="SshKeyVariable"/> / <see cref="SshPassphraseVariable"/>.
/// <see cref="Values"/> are the <c>SLIPWAY_*</c> values every step gets (the target's own are added per target).
/// </summary>
public sealed record RolloutJob(
    IReadOnlyList<RolloutTargetSpec> Targets,
    IReadOnlyList<RolloutStepSpec> Steps,
    IReadOnlyList<BalancerSpec> Balancers,
    int MaxFailures,
    string SshKeyVariable,
    string? SshPassphraseVariable,
    IReadOnlyDictionary<string, string> Values,
    string? Mode = null,
    bool PauseOnFailure = false)
{
    /// <summary>Protocol 6: <c>Mode</c> "repair" (deployment repair N) runs no step: each target is set back to ready and waited for until UP.</summary>
    public const string RepairMode = "repair";
}

/// <summary>
/// One target in plan order. <c>Backend</c>/<c>Server</c> are null for a target behind no balancer. <c>Roles</c> (all of the
/// target's roles, protocol 5 with ansible steps) become the groups of the Ansible inventory. <c>NodeAgent</c> (protocol 6)
/// names the agent running on the target that carries out its steps (<see cref="NodeTask"/>); null: the target is reached by SSH.
/// </summary>
public sealed record RolloutTargetSpec(string Name, string Host, int Port, string User, string? HostKey, string? Backend, string? Server, int Batch,
    IReadOnlyList<string>? Roles = null, string? NodeAgent = null);

/// <summary>A typed step: <c>Kind</c> is upload (From, To), ssh (Script), health (Url, Expect, WithinSeconds) or ansible (Playbook).</summary>
public sealed record RolloutStepSpec(string Kind, string Describe, string? Script = null, string? From = null, string? To = null,
    string? Url = null, int? Expect = null, int? WithinSeconds = null, string? Playbook = null)
{
    /// <summary>The step kinds this version of the agent carries out; a lease with any other is refused before anything runs.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["upload", "ssh", "health", "ansible"];
}

/// <summary>
/// One load balancer of the environment. <c>Kind</c> <c>haproxy</c> (or null, as servers before it sent): <c>Address</c> is the
/// HAProxy runtime API as the agent reaches it (unix socket path or host:port). <c>script</c>: <c>Address</c> is empty and the
/// agent runs the three commands (admin configuration, run with <c>/bin/sh -c</c>), the target given in SLIPWAY_LB_* environment
/// variables. An agent refuses a rollout naming a kind it does not know before any target is touched.
/// </summary>
public sealed record BalancerSpec(string Name, string Address, int MinHealthy, int DrainTimeoutSeconds, string? Kind = null,
    string? DrainCommand = null, string? EnableCommand = null, string? StatusCommand = null)
{
    public const string Haproxy = "haproxy";
    public const string Script = "script";

    /// <summary>The balancer kinds this version of the agent drives.</summary>
    public static readonly IReadOnlyList<string> Kinds = [Haproxy, Script];
}

/// <summary>
/// POST /api/v1/agent/jobs/{id}/targets (protocol 5): one target's progress. <c>State</c> is one of <see cref="TargetStates"/>;
/// <c>BalancerState</c> what the agent last set in every balancer (ready, drain, maint); <c>Final</c> marks the target's outcome.
/// </summary>
public sealed record TargetProgressRequest(string LeaseId, string Target, string State, string? BalancerState, string? Step, string? Reason, bool Final);

/// <summary>GET jobs/{id}/decision?target=T (protocol 6): a deployer's decision for a paused target (retry, skip, abort), taken up once.</summary>
public sealed record TargetDecisionDto(string Target, string Decision, string By);

public static class TargetStates
{
    public const string Pending = "pending";
    public const string Draining = "draining";
    public const string Deploying = "deploying";
    public const string Enabling = "enabling";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>Put back in rotation untouched or after a rollback, when the rollout stopped before or after it.</summary>
    public const string Restored = "restored";
    public const string Restoring = "restoring";
    public const string NotRun = "not-run";
    public const string Unknown = "unknown";
    /// <summary>on_failure: pause — failed, waiting for a deployer's retry, skip or abort; then skipped when told so (it stays out of rotation).</summary>
    public const string Paused = "paused";
    public const string Skipped = "skipped";

    public static readonly IReadOnlyList<string> All = [Pending, Draining, Deploying, Enabling, Succeeded, Failed, Restored, Restoring, NotRun, Unknown, Paused, Skipped];
}

/// <summary>An artifact addressed by its SHA-256 digest and the relative path it is placed at.</summary>
public sealed record ArtifactRef(string Path, string Sha256, long Size, bool Executable);

/// <summary>POST /api/v1/agent/jobs/{id}/renew: held open up to <c>WaitSeconds</c>, returns early on cancel.</summary>
public sealed record RenewRequest(string LeaseId, int WaitSeconds);
public sealed record RenewResponse(bool Cancel, DateTimeOffset LeaseExpiresAt);

/// <summary>Answer to a log append: the server's view of the log, and whether to stop.</summary>
public sealed record LogAppendResponse(long Length, bool Truncated, bool Cancel);

public sealed record TestFailureDto(string Name, string Message);
public sealed record TestSummaryDto(int Passed, int Failed, int Skipped, IReadOnlyList<TestFailureDto> Failures);

/// <summary>POST /api/v1/agent/jobs/{id}/finish.</summary>
public sealed record FinishJobRequest(
    string LeaseId,
    int? ExitCode,
    string Outcome,           // JobOutcomes
    string? FailureReason,
    TestSummaryDto? TestSummary,
    IReadOnlyList<string> ReportErrors,
    MetricsFileContent? Metrics = null);

/// <summary>
/// Protocol 7: the job's metrics file (<see cref="JobLease.MetricsFile"/>) as the agent found it: its text (at most
/// <see cref="MaxBytes"/>), or why it could not be read. The server parses it; the agent only carries it.
/// </summary>
public sealed record MetricsFileContent(string Path, string? Text, string? Error)
{
    public const int MaxBytes = 1024 * 1024;
}

public static class JobOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>Headers used by the protocol where the body is raw bytes.</summary>
public static class AgentHeaders
{
    public const string LeaseId = "X-Slipway-Lease";
    public const string ArtifactPath = "X-Slipway-Artifact-Path";
    public const string ArtifactExecutable = "X-Slipway-Artifact-Executable";
}
