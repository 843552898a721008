namespace Slipway.Contracts.Api;

/// <summary>
/// POST /projects/{name}/environments/{env}/checks: an HTTP check (kind http, the default: url, expectStatus, bodyContains)
/// or a script check (kind script: a bash script run on the environment's pool, passing when it exits 0) or a release check
/// (kind release: releaseCheck names a check of the current release's deploy: checks:, run the same way). Durations as in pipeline
/// files (10s, 5m, 1h30m). Exactly one of every or cron (with an optional IANA time zone). Watch: the window after each
/// successful deployment in which a failure acts on the rollback policy (default 15m, 0s for none).
/// </summary>
public sealed record CheckRequest(string? Url, int? ExpectStatus = null, string? BodyContains = null, string? Timeout = null, string? Every = null,
    string? Cron = null, string? TimeZone = null, string? Watch = null, string? Kind = null, string? Script = null, string? ReleaseCheck = null);

public sealed record CheckDto(long Id, string Environment, string Kind, string Url, int ExpectStatus, string? BodyContains, string Timeout, string Schedule,
    string? Every, string? Cron, string? TimeZone, string Watch, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastRunAt, bool? LastOk,
    string? Script = null, string? ReleaseCheck = null);

/// <summary>One run of a check. Deployment: the number of the deployment whose watch window it fell in.</summary>
public sealed record CheckResultDto(long Id, long CheckId, DateTimeOffset At, bool Ok, int? StatusCode, long DurationMs, string Detail, long? Deployment);

/// <summary>GET /projects/{name}/environments/{env}/health: the latest result of each check; status healthy, failing, unknown (not run yet) or none (no checks).</summary>
public sealed record EnvironmentHealthDto(string Project, string Environment, string Status, IReadOnlyList<CheckHealthDto> Checks);

public sealed record CheckHealthDto(CheckDto Check, CheckResultDto? Latest);

/// <summary>POST /projects/{name}/webhooks/alerts: where live-check alerts go. Format json (default) or slack; environment: only its alerts (default all).</summary>
public sealed record AlertWebhookRequest(string? Url, string? Format = null, string? Environment = null);

/// <summary>
/// A webhook as shown: its address redacted to scheme, host and port (the path of a Slack webhook is its secret), and the
/// latest alert sent to it (null when none was yet, or its record was pruned after 30 days).
/// </summary>
public sealed record AlertWebhookDto(long Id, string? Environment, string Url, string Format, string CreatedBy, DateTimeOffset CreatedAt,
    AlertDeliveryDto? LastDelivery = null);

/// <summary>
/// One alert's delivery to one webhook. Status: pending (waiting for its next attempt, or being attempted), delivered,
/// refused (the receiver answered 4xx: not retried), gave-up (every attempt failed) or dropped (too many waited).
/// </summary>
public sealed record AlertDeliveryDto(string Event, string Status, int Attempts, string? LastError, DateTimeOffset QueuedAt, DateTimeOffset? FinishedAt);
