namespace Slipway.Contracts.Api;

/// <summary>
/// A server node sharing the database (GET /api/v1/nodes). <paramref name="Alive"/>: its heartbeat is at most three
/// heartbeat intervals old on the database's clock and it has not stopped. <paramref name="ThisNode"/>: the node that
/// answered the request. <paramref name="OpenRequests"/>: the requests it was handling at its last heartbeat, but for
/// those that wait by design (agents' long polls, followed logs); <paramref name="EmbeddedJobs"/>: the jobs its embedded
/// agent was running then; both null from a node of an earlier version. <paramref name="State"/>: stopped, lost,
/// drained (drains, holds no duty, and counted a heartbeat interval into the drain no open request and no job: safe to stop), draining or
/// alive (null from a server of an earlier version).
/// </summary>
public sealed record NodeDto(string Name, string Version, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, bool Draining,
    DateTimeOffset? StoppedAt, bool Alive, bool ThisNode, IReadOnlyList<NodeDutyDto> Duties, int? OpenRequests, int? EmbeddedJobs,
    string? State, string? WaitingFor);

/// <summary>A duty whose lease the node holds, under <paramref name="FencingToken"/>, until <paramref name="ExpiresAt"/> unless renewed.</summary>
public sealed record NodeDutyDto(string Duty, long FencingToken, DateTimeOffset ExpiresAt);
