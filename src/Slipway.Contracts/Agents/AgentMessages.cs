namespace Slipway.Contracts.Agents;

// Wire messages of the agent protocol (docs/agent-protocol.md). JSON, camelCase.
// Call order: register -> poll -> start -> (log | renew | upload artifact)* -> finish.

/// <summary>POST /api/v1/agent/register, authorized by a registration token (bearer).</summary>
public sealed record RegisterAgentRequest(int ProtocolVersion, string Name, string Pool, IReadOnlyList<string> Labels, int Slots);

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
    IReadOnlyList<string> SecretNames)
{
    public override string ToString() => $"JobLease {{ JobId = {JobId}, JobName = {JobName}, RunId = {RunId}, Project = {Project} }}";
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
    IReadOnlyList<string> ReportErrors);

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
