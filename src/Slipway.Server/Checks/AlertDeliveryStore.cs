using Dapper;
using Slipway.Core.Checks;

namespace Slipway.Server.Checks;

/// <summary>One delivery taken for an attempt: what to send where, and the attempt's number (its claim).</summary>
public sealed class ClaimedAlertDelivery
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public string Event { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
    public int Attempts { get; set; }
    public string UrlProtected { get; set; } = "";
    public string UrlShown { get; set; } = "";
}

/// <summary>A delivery as the webhook list shows its latest.</summary>
public sealed class AlertDeliveryRow
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public string Event { get; set; } = "";
    public string Status { get; set; } = "";
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public long CreatedAt { get; set; }
    public long? FinishedAt { get; set; }
}

/// <summary>
/// alert_deliveries: the alerts waiting for their webhooks, shared by every node. Every time here is the database's
/// (<see cref="DbClock"/>), never a node's. An attempt is claimed by one conditional statement that counts it and moves
/// the delivery's next attempt past the time the attempt may take, so two nodes never attempt the same delivery at once,
/// and a node that dies mid-attempt leaves it to be tried again by any node once that time is over. Each outcome is
/// written only under the claim it was made under: a node that overran its claim cannot overwrite a newer attempt's.
/// </summary>
public sealed class AlertDeliveryStore(SqlDatabase db)
{
    private string Now => DbClock.NowMs(db.Dialect);
    private const string Pending = $"status = '{AlertDeliveryStates.Pending}'";

    /// <summary>
    /// Queues one delivery per webhook, due now; then, when more than <paramref name="capacity"/> wait, the oldest are
    /// dropped. Returns the subjects of the dropped ones, for the caller's warning.
    /// </summary>
    public Task<IReadOnlyList<(string Event, string Subject, long WebhookId)>> QueueAsync(
        IEnumerable<(long WebhookId, string Body)> deliveries, string @event, string subject, int capacity) =>
        db.WriteAsync<IReadOnlyList<(string, string, long)>>(async (c, tx) =>
        {
            foreach (var (webhookId, body) in deliveries)
                await c.ExecuteAsync(
                    "INSERT INTO alert_deliveries (webhook_id, event, subject, body, status, attempts, next_attempt_at, created_at) " +
                    $"VALUES (@webhookId, @event, @subject, @body, '{AlertDeliveryStates.Pending}', 0, {Now}, {Now})",
                    new { webhookId, @event, subject, body }, tx);
            var excess = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM alert_deliveries WHERE {Pending}", transaction: tx) - capacity;
            if (excess <= 0) return [];
            return (await c.QueryAsync<(string, string, long)>(
                $"UPDATE alert_deliveries SET status = '{AlertDeliveryStates.Dropped}', finished_at = {Now} WHERE id IN " +
                $"(SELECT id FROM alert_deliveries WHERE {Pending} ORDER BY id LIMIT @excess) RETURNING event, subject, webhook_id",
                new { excess }, tx)).ToList();
        });

    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries for an attempt each (oldest due first): counts the attempt and
    /// pushes the next one <paramref name="claim"/> ahead, the longest an attempt may take before another node may try.
    /// </summary>
    public Task<IReadOnlyList<ClaimedAlertDelivery>> ClaimDueAsync(int limit, TimeSpan claim) =>
        db.WriteAsync<IReadOnlyList<ClaimedAlertDelivery>>(async (c, tx) =>
        {
            // Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT): PostgreSQL may run such a subquery again for each
            // row (its clock is volatile) and claim more than asked. On PostgreSQL the rows are locked as they are picked, and
            // rows another node is claiming right now are skipped, not waited for; SQLite has one writer at a time.
            var skipLocked = db.Dialect == SqlDialect.Postgres ? " FOR UPDATE SKIP LOCKED" : "";
            var due = (await c.QueryAsync<long>(
                $"SELECT id FROM alert_deliveries WHERE {Pending} AND next_attempt_at <= {Now} ORDER BY next_attempt_at, id LIMIT @limit{skipLocked}",
                new { limit }, tx)).ToList();
            if (due.Count == 0) return [];
            var claimed = (await c.QueryAsync<long>(
                $"UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = {Now} + @ms " +
                $"WHERE id IN {SqlIds.List(due)} AND {Pending} AND next_attempt_at <= {Now} RETURNING id",
                new { ms = (long)claim.TotalMilliseconds }, tx)).ToList();
            if (claimed.Count == 0) return [];
            var rows = (await c.QueryAsync<ClaimedAlertDelivery>(
                "SELECT d.id, d.webhook_id, d.event, d.subject, d.body, d.attempts, w.url_protected, w.url_shown " +
                $"FROM alert_deliveries d JOIN alert_webhooks w ON w.id = d.webhook_id WHERE d.id IN {SqlIds.List(claimed)} " +
                "ORDER BY d.id", transaction: tx)).ToList();
            return rows;
        });

    /// <summary>Ends the delivery in <paramref name="state"/> if it is still under the claim of <paramref name="attempt"/> (a null
    /// <paramref name="error"/> keeps the last attempt's: "delivered at attempt 3" still tells what failed before). A delivery
    /// dropped (too many waiting) while this attempt was under way is recorded as delivered when it was: the receiver has it.</summary>
    public Task<bool> FinishAsync(long id, int attempt, string state, string? error)
    {
        var droppedMeanwhile = state == AlertDeliveryStates.Delivered ? $" OR status = '{AlertDeliveryStates.Dropped}'" : "";
        return db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            $"UPDATE alert_deliveries SET status = @state, last_error = COALESCE(@error, last_error), finished_at = {Now} " +
            $"WHERE id = @id AND attempts = @attempt AND ({Pending}{droppedMeanwhile})",
            new { id, attempt, state, error }, tx) == 1);
    }

    /// <summary>Sets the next attempt <paramref name="wait"/> from now if the delivery is still under the claim of <paramref name="attempt"/>.</summary>
    public Task<bool> RetryLaterAsync(long id, int attempt, TimeSpan wait, string error) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            $"UPDATE alert_deliveries SET next_attempt_at = {Now} + @ms, last_error = @error WHERE id = @id AND attempts = @attempt AND {Pending}",
            new { id, attempt, ms = (long)wait.TotalMilliseconds, error }, tx) == 1);

    /// <summary>How long until the next pending delivery is due (zero when one is due now), or null when none waits.</summary>
    public Task<TimeSpan?> NextDueInAsync() => db.ReadAsync(async c =>
        await c.ExecuteScalarAsync<long?>($"SELECT MIN(next_attempt_at) - {Now} FROM alert_deliveries WHERE {Pending}") is { } ms
            ? TimeSpan.FromMilliseconds(Math.Max(0, ms))
            : (TimeSpan?)null);

    /// <summary>Deletes the record of deliveries that ended more than <paramref name="keep"/> ago; how many.</summary>
    public Task<int> PruneAsync(TimeSpan keep) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            $"DELETE FROM alert_deliveries WHERE status <> '{AlertDeliveryStates.Pending}' AND finished_at < {Now} - @ms",
            new { ms = (long)keep.TotalMilliseconds }, tx));

    /// <summary>The latest delivery to each of <paramref name="webhookIds"/>, for the webhook list.</summary>
    public async Task<IReadOnlyDictionary<long, AlertDeliveryRow>> LatestAsync(IReadOnlyCollection<long> webhookIds)
    {
        if (webhookIds.Count == 0) return new Dictionary<long, AlertDeliveryRow>();
        var rows = await db.ReadAsync(c => c.QueryAsync<AlertDeliveryRow>(
            "SELECT id, webhook_id, event, status, attempts, last_error, created_at, finished_at FROM alert_deliveries " +
            $"WHERE id IN (SELECT MAX(id) FROM alert_deliveries WHERE webhook_id IN {SqlIds.List(webhookIds)} GROUP BY webhook_id)"));
        return rows.ToDictionary(r => r.WebhookId);
    }
}
