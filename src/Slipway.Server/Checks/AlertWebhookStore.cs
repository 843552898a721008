using Dapper;

namespace Slipway.Server.Checks;

public sealed class AlertWebhookRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public long? EnvironmentId { get; set; }
    public string? Environment { get; set; }
    /// <summary>The address encrypted by <see cref="SecretVault"/>: read it only to deliver.</summary>
    public string UrlProtected { get; set; } = "";
    public string UrlShown { get; set; } = "";
    public string Format { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public long CreatedAt { get; set; }
}

/// <summary>Where a project's live-check alerts go. Plain reads and writes; <see cref="CheckService"/> checks and audits.</summary>
public sealed class AlertWebhookStore(SqlDatabase db)
{
    private const string Select = "SELECT w.id, w.project_id, w.environment_id, e.name AS environment, w.url_protected, w.url_shown, w.format, w.created_by, w.created_at " +
                                  "FROM alert_webhooks w LEFT JOIN environments e ON e.id = w.environment_id";

    public async Task<IReadOnlyList<AlertWebhookRow>> ListAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<AlertWebhookRow>($"{Select} WHERE w.project_id = @projectId ORDER BY w.id", new { projectId }))).ToList();

    /// <summary>The webhooks an alert about <paramref name="environmentId"/> goes to: the project's own and the environment's.</summary>
    public async Task<IReadOnlyList<AlertWebhookRow>> ForAsync(long projectId, long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<AlertWebhookRow>(
            $"{Select} WHERE w.project_id = @projectId AND (w.environment_id IS NULL OR w.environment_id = @environmentId) ORDER BY w.id",
            new { projectId, environmentId }))).ToList();

    public Task<long> AddAsync(long projectId, long? environmentId, string urlProtected, string urlShown, string format, string by, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO alert_webhooks (project_id, environment_id, url_protected, url_shown, format, created_by, created_at) " +
            "VALUES (@projectId, @environmentId, @urlProtected, @urlShown, @format, @by, @now) RETURNING id",
            new { projectId, environmentId, urlProtected, urlShown, format, by, now }, tx));

    public Task<bool> RemoveAsync(long projectId, long id) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM alert_webhooks WHERE project_id = @projectId AND id = @id",
            new { projectId, id }, tx) == 1);
}
