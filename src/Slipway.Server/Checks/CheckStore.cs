using Dapper;
using Slipway.Core.Checks;

namespace Slipway.Server.Checks;

public sealed class CheckRow
{
    public long Id { get; set; }
    public long EnvironmentId { get; set; }
    public string Environment { get; set; } = "";
    public long ProjectId { get; set; }
    public string Project { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Url { get; set; } = "";
    /// <summary>A script check's bash script (kind script), else null.</summary>
    public string? Script { get; set; }
    /// <summary>A release check's name (kind release): the script comes from the current release's deploy: checks:.</summary>
    public string? ReleaseCheck { get; set; }
    public int ExpectStatus { get; set; }
    public string? BodyContains { get; set; }
    public long TimeoutMs { get; set; }
    public long? EverySeconds { get; set; }
    public string? Cron { get; set; }
    public string? TimeZone { get; set; }
    public long WatchSeconds { get; set; }
    public string CreatedBy { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? LastRunAt { get; set; }
    public bool? LastOk { get; set; }

    public CheckSchedule Schedule => new(EverySeconds is { } s ? TimeSpan.FromSeconds(s) : null, Cron, TimeZone);
    public TimeSpan Timeout => TimeSpan.FromMilliseconds(TimeoutMs);
    public TimeSpan Watch => TimeSpan.FromSeconds(WatchSeconds);
    public DateTimeOffset Created => DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt);
    public DateTimeOffset? LastRun => LastRunAt is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t) : null;
    public string Name => Kind switch
    {
        "script" => $"#{Id} (script)",
        "release" => $"#{Id} (release check '{ReleaseCheck}')",
        _ => $"#{Id} ({Kind} {HttpCheckRules.Redact(Url)})",
    };
}

public sealed class CheckResultRow
{
    public long Id { get; set; }
    public long CheckId { get; set; }
    public long At { get; set; }
    public bool Ok { get; set; }
    public int? StatusCode { get; set; }
    public long DurationMs { get; set; }
    public string Detail { get; set; } = "";
    public long? DeploymentId { get; set; }
    public long? DeploymentNumber { get; set; }
}

/// <summary>A check's outcome to record.</summary>
public sealed record CheckOutcome(bool Ok, int? StatusCode, long DurationMs, string Detail);

/// <summary>
/// Live checks: each environment's checks, their bounded history (the latest <see cref="HistoryLimit"/> results per
/// check), and the once-per-deployment claim of a watch window's action. Plain reads and writes; the rules are in
/// <see cref="CheckVerdict"/> and <see cref="CheckService"/>.
/// </summary>
public sealed class CheckStore(SqlDatabase db)
{
    public const int HistoryLimit = 500;
    /// <summary>Results kept per check and deployment inside a watch window (a 1 s check over a 1-day window would keep 86 400).</summary>
    public const int WindowLimit = 1000;
    /// <summary>Checks an environment may have: each makes the server send requests on a schedule.</summary>
    public const int PerEnvironmentLimit = 20;

    private const string Select =
        "SELECT c.id, c.environment_id, e.name AS environment, e.project_id, p.name AS project, c.kind, c.url, c.script, c.release_check, c.expect_status, c.body_contains, c.timeout_ms, " +
        "c.every_seconds, c.cron, c.time_zone, c.watch_seconds, c.created_by, c.created_at, c.last_run_at, c.last_ok " +
        "FROM live_checks c JOIN environments e ON e.id = c.environment_id JOIN projects p ON p.id = e.project_id";

    public async Task<IReadOnlyList<CheckRow>> ListAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<CheckRow>($"{Select} WHERE c.environment_id = @environmentId ORDER BY c.id", new { environmentId }))).ToList();

    /// <summary>Every check of every environment (what the runner looks at each pass).</summary>
    public async Task<IReadOnlyList<CheckRow>> AllAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<CheckRow>($"{Select} ORDER BY c.id"))).ToList();

    public Task<CheckRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<CheckRow>($"{Select} WHERE c.id = @id", new { id }));

    public Task<long> AddAsync(long environmentId, string kind, string url, int expectStatus, string? bodyContains, TimeSpan timeout, CheckSchedule schedule,
        TimeSpan watch, string by, long now, string? script = null, string? releaseCheck = null) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO live_checks (environment_id, kind, url, script, release_check, expect_status, body_contains, timeout_ms, every_seconds, cron, time_zone, watch_seconds, created_by, created_at) " +
            "VALUES (@environmentId, @kind, @url, @script, @releaseCheck, @expectStatus, @bodyContains, @timeoutMs, @everySeconds, @Cron, @TimeZone, @watchSeconds, @by, @now) RETURNING id",
            new { environmentId, kind, url, script, releaseCheck, expectStatus, bodyContains, timeoutMs = (long)timeout.TotalMilliseconds, everySeconds = (long?)schedule.Every?.TotalSeconds,
                  schedule.Cron, schedule.TimeZone, watchSeconds = (long)watch.TotalSeconds, by, now }, tx));

    public Task<bool> RemoveAsync(long environmentId, long id) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM live_checks WHERE environment_id = @environmentId AND id = @id",
            new { environmentId, id }, tx) == 1);

    /// <summary>Records a result, moves the check's last run along, and prunes its history to the latest <see cref="HistoryLimit"/>.</summary>
    public Task<long> RecordAsync(long checkId, CheckOutcome outcome, long? deploymentId, long at) =>
        db.WriteAsync(async (c, tx) =>
        {
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO live_check_results (check_id, at, ok, status_code, duration_ms, detail, deployment_id) " +
                "VALUES (@checkId, @at, @Ok, @StatusCode, @DurationMs, @Detail, @deploymentId) RETURNING id",
                new { checkId, at, outcome.Ok, outcome.StatusCode, outcome.DurationMs, outcome.Detail, deploymentId }, tx);
            await c.ExecuteAsync("UPDATE live_checks SET last_run_at = @at, last_ok = @Ok WHERE id = @checkId", new { checkId, at, outcome.Ok }, tx);
            // Results inside a deployment's watch window are that deployment's evidence (the export carries them): kept.
            await c.ExecuteAsync(
                "DELETE FROM live_check_results WHERE check_id = @checkId AND deployment_id IS NULL AND id <= (SELECT id FROM live_check_results " +
                "WHERE check_id = @checkId ORDER BY id DESC LIMIT 1 OFFSET @limit)", new { checkId, limit = HistoryLimit }, tx);
            if (deploymentId is not null)
                await c.ExecuteAsync(
                    "DELETE FROM live_check_results WHERE check_id = @checkId AND deployment_id = @deploymentId AND id <= (SELECT id FROM live_check_results " +
                    "WHERE check_id = @checkId AND deployment_id = @deploymentId ORDER BY id DESC LIMIT 1 OFFSET @limit)", new { checkId, deploymentId, limit = WindowLimit }, tx);
            return id;
        });

    /// <summary>Moves a check's last run along without a result (a script check with nothing deployed to check yet).</summary>
    public Task TouchAsync(long checkId, long at) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE live_checks SET last_run_at = @at WHERE id = @checkId", new { checkId, at }, tx));

    /// <summary>The check's latest results, newest first.</summary>
    public async Task<IReadOnlyList<CheckResultRow>> ResultsAsync(long checkId, int limit = HistoryLimit) =>
        (await db.ReadAsync(c => c.QueryAsync<CheckResultRow>(
            "SELECT r.id, r.check_id, r.at, r.ok, r.status_code, r.duration_ms, r.detail, r.deployment_id, d.number AS deployment_number " +
            "FROM live_check_results r LEFT JOIN deployments d ON d.id = r.deployment_id WHERE r.check_id = @checkId ORDER BY r.id DESC LIMIT @limit",
            new { checkId, limit }))).ToList();

    /// <summary>
    /// The latest <paramref name="perCheck"/> results of each of <paramref name="checkIds"/>, newest first, in one statement:
    /// one indexed LIMIT per check (check_id, id), so the kept evidence of old deployments is never scanned.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<CheckResultRow>>> LatestResultsAsync(IReadOnlyList<long> checkIds, int perCheck)
    {
        if (checkIds.Count == 0) return new Dictionary<long, IReadOnlyList<CheckResultRow>>();
        // The ids are the database's own numbers, written as literals (SqlIds does the same for lists).
        var parts = checkIds.Distinct().Select(id =>
            "SELECT * FROM (SELECT r.id, r.check_id, r.at, r.ok, r.status_code, r.duration_ms, r.detail, r.deployment_id " +
            $"FROM live_check_results r WHERE r.check_id = {id.ToString(System.Globalization.CultureInfo.InvariantCulture)} ORDER BY r.id DESC LIMIT @perCheck) p{id}");
        var rows = await db.ReadAsync(c => c.QueryAsync<CheckResultRow>(
            "SELECT l.id, l.check_id, l.at, l.ok, l.status_code, l.duration_ms, l.detail, l.deployment_id, d.number AS deployment_number " +
            $"FROM ({string.Join(" UNION ALL ", parts)}) l LEFT JOIN deployments d ON d.id = l.deployment_id ORDER BY l.check_id, l.id DESC",
            new { perCheck }));
        return rows.GroupBy(r => r.CheckId).ToDictionary(g => g.Key, g => (IReadOnlyList<CheckResultRow>)g.ToList());
    }

    /// <summary>The results that fell in a deployment's watch window, oldest first (its evidence).</summary>
    public async Task<IReadOnlyList<CheckResultRow>> ResultsOfDeploymentAsync(long deploymentId) =>
        (await db.ReadAsync(c => c.QueryAsync<CheckResultRow>(
            "SELECT r.id, r.check_id, r.at, r.ok, r.status_code, r.duration_ms, r.detail, r.deployment_id, d.number AS deployment_number " +
            "FROM live_check_results r LEFT JOIN deployments d ON d.id = r.deployment_id WHERE r.deployment_id = @deploymentId ORDER BY r.id",
            new { deploymentId }))).ToList();

    /// <summary>
    /// Claims the watch window of a deployment for one action; false when a check already acted on it (the primary key
    /// decides, so two runner passes or two nodes never both roll back).
    /// </summary>
    public Task<bool> ClaimWindowAsync(long deploymentId, long checkId, string action, long at) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "INSERT INTO live_check_window_actions (deployment_id, check_id, action, at) VALUES (@deploymentId, @checkId, @action, @at) ON CONFLICT DO NOTHING",
            new { deploymentId, checkId, action, at }, tx) == 1);

    public Task<bool> WindowHandledAsync(long deploymentId) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM live_check_window_actions WHERE deployment_id = @deploymentId",
            new { deploymentId }) > 0);
}
