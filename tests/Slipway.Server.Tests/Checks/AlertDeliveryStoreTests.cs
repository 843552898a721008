using Dapper;
using Slipway.Core.Checks;
using Slipway.Testing;

namespace Slipway.Server.Tests.Checks;

/// <summary>
/// Alert deliveries in the database, on a real SQLite file and a real PostgreSQL, with two store instances standing for
/// two nodes: an attempt is claimed by one node only, a node that dies mid-attempt leaves the delivery to another once
/// its claim runs out, an outcome recorded under an overrun claim changes nothing, and too many waiting drop the oldest.
/// </summary>
[Collection("postgres")]
public sealed class AlertDeliveryStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private static async Task<long[]> WebhooksAsync(SqlDatabase db, int count)
    {
        var project = (await new ProjectStore(db).CreateAsync("shop", "/repo", "main", "hook", new Dictionary<string, string>(), 1000))!;
        var store = new AlertWebhookStore(db);
        var ids = new long[count];
        for (var i = 0; i < count; i++) ids[i] = await store.AddAsync(project.Id, null, "protected-" + i, "http://127.0.0.1:" + (9000 + i), "json", "ann", 1000);
        return ids;
    }

    private static Task<IReadOnlyList<(string, string, long)>> QueueAsync(AlertDeliveryStore store, long[] webhooks, string @event, int capacity = 1000) =>
        store.QueueAsync(webhooks.Select(w => (w, $"{{\"event\":\"{@event}\",\"to\":{w}}}")), @event, "shop/production", capacity);

    /// <summary>Lets <paramref name="time"/> pass for every delivery: their due times move that much earlier.</summary>
    private static Task PassAsync(SqlDatabase db, TimeSpan time) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE alert_deliveries SET next_attempt_at = next_attempt_at - @ms", new { ms = (long)time.TotalMilliseconds }, tx));

    private static Task<string> StatusAsync(SqlDatabase db, long id) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<string>("SELECT status FROM alert_deliveries WHERE id = @id", new { id }))!;

    [Theory, MemberData(nameof(Dialects))]
    public async Task AnAttempt_IsClaimedByOneNode_AndANodeDyingMidAttempt_LeavesItToAnother(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (nodeA, nodeB) = (new AlertDeliveryStore(db), new AlertDeliveryStore(db));
        var hook = await WebhooksAsync(db, 1);
        Assert.Null(await nodeA.NextDueInAsync());
        Assert.Empty(await QueueAsync(nodeA, hook, "check.failed"));
        Assert.Equal(TimeSpan.Zero, await nodeB.NextDueInAsync());

        var claim = TimeSpan.FromMinutes(1);
        var first = Assert.Single(await nodeA.ClaimDueAsync(4, claim));
        Assert.Equal((1, "check.failed", "shop/production", "protected-0", "http://127.0.0.1:9000"),
            (first.Attempts, first.Event, first.Subject, first.UrlProtected, first.UrlShown));
        Assert.Contains("\"to\":" + hook[0], first.Body);
        Assert.Empty(await nodeB.ClaimDueAsync(4, claim)); // under node A's claim
        Assert.InRange((await nodeB.NextDueInAsync())!.Value, TimeSpan.FromSeconds(50), claim);

        // Node A dies mid-attempt: once its claim runs out (made to, here) the delivery is due again, and node B takes attempt 2.
        await PassAsync(db, claim);
        var second = Assert.Single(await nodeB.ClaimDueAsync(4, claim));
        Assert.Equal((first.Id, 2), (second.Id, second.Attempts));

        // Node A comes back from a long pause with attempt 1's outcome: refused, it changes nothing.
        Assert.False(await nodeA.FinishAsync(first.Id, 1, AlertDeliveryStates.Delivered, null));
        Assert.False(await nodeA.RetryLaterAsync(first.Id, 1, TimeSpan.Zero, "answered 500"));
        Assert.Equal(AlertDeliveryStates.Pending, await StatusAsync(db, first.Id));

        // Attempt 2 fails: due again after its wait, not before.
        Assert.True(await nodeB.RetryLaterAsync(second.Id, 2, TimeSpan.FromMinutes(2), "answered 500"));
        Assert.InRange((await nodeA.NextDueInAsync())!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromMinutes(2));
        Assert.Empty(await nodeA.ClaimDueAsync(4, claim));
        await PassAsync(db, TimeSpan.FromMinutes(2));
        var third = Assert.Single(await nodeA.ClaimDueAsync(4, claim));
        Assert.Equal(3, third.Attempts);
        Assert.True(await nodeA.FinishAsync(third.Id, 3, AlertDeliveryStates.Delivered, null));

        Assert.Null(await nodeB.NextDueInAsync());
        Assert.Empty(await nodeB.ClaimDueAsync(4, claim));
        var latest = (await nodeB.LatestAsync(hook))[hook[0]];
        Assert.Equal(("check.failed", AlertDeliveryStates.Delivered, 3, "answered 500"), (latest.Event, latest.Status, latest.Attempts, latest.LastError));
        Assert.NotNull(latest.FinishedAt);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task Claims_TakeTheOldestDueFirst_NoMoreThanAsked_AndNeverTheSameTwice(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var hooks = await WebhooksAsync(db, 5);
        var store = new AlertDeliveryStore(db);
        await QueueAsync(store, hooks, "check.failed");
        await QueueAsync(store, hooks, "check.recovered");

        // Two nodes claiming at the same time, three at a go, until nothing is due: each delivery claimed exactly once.
        var nodes = new[] { new AlertDeliveryStore(db), new AlertDeliveryStore(db) };
        var claimed = new System.Collections.Concurrent.ConcurrentBag<long>();
        await Task.WhenAll(nodes.Select(node => Task.Run(async () =>
        {
            for (var round = 0; round < 10; round++)
                foreach (var d in await node.ClaimDueAsync(3, TimeSpan.FromMinutes(5)))
                    claimed.Add(d.Id);
        })));
        Assert.Equal(10, claimed.Count);
        Assert.Equal(10, claimed.Distinct().Count());

        // Oldest first: of a fresh batch, a claim of three takes the first three queued.
        await db.WriteAsync((c, tx) => c.ExecuteAsync("DELETE FROM alert_deliveries", transaction: tx));
        await QueueAsync(store, hooks, "check.failed");
        var firstThree = await store.ClaimDueAsync(3, TimeSpan.FromMinutes(5));
        Assert.Equal(hooks[..3], firstThree.Select(d => d.WebhookId).ToArray());
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task MoreWaitingThanTheCapacity_DropsTheOldest_AndSaysWhich(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var hooks = await WebhooksAsync(db, 3);
        var store = new AlertDeliveryStore(db);
        Assert.Empty(await QueueAsync(store, hooks, "check.failed", capacity: 4));
        var dropped = await QueueAsync(store, hooks, "check.recovered", capacity: 4);
        Assert.Equal([("check.failed", "shop/production", hooks[0]), ("check.failed", "shop/production", hooks[1])], dropped);
        var states = (await db.ReadAsync(c => c.QueryAsync<(string Event, string Status)>("SELECT event, status FROM alert_deliveries ORDER BY id"))).ToList();
        Assert.Equal([
            ("check.failed", AlertDeliveryStates.Dropped), ("check.failed", AlertDeliveryStates.Dropped), ("check.failed", AlertDeliveryStates.Pending),
            ("check.recovered", AlertDeliveryStates.Pending), ("check.recovered", AlertDeliveryStates.Pending), ("check.recovered", AlertDeliveryStates.Pending),
        ], states);
        Assert.Equal(4, (await store.ClaimDueAsync(10, TimeSpan.FromMinutes(5))).Count);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ADeliveryDroppedDuringItsAttempt_IsRecordedAsDelivered_WhenTheAttemptGotThrough(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var hooks = await WebhooksAsync(db, 2);
        var store = new AlertDeliveryStore(db);
        await QueueAsync(store, hooks, "check.failed", capacity: 2);
        var attempts = await store.ClaimDueAsync(10, TimeSpan.FromMinutes(5)); // both under way
        Assert.Equal(2, attempts.Count);
        Assert.Equal(2, (await QueueAsync(store, hooks, "check.recovered", capacity: 2)).Count); // drops the two under way

        // The first attempt reached its receiver: the record says so. The second failed: it stays dropped, never retried.
        Assert.True(await store.FinishAsync(attempts[0].Id, 1, AlertDeliveryStates.Delivered, null));
        Assert.False(await store.RetryLaterAsync(attempts[1].Id, 1, TimeSpan.Zero, "answered 500"));
        Assert.False(await store.FinishAsync(attempts[1].Id, 1, AlertDeliveryStates.GaveUp, "answered 500"));
        Assert.Equal(AlertDeliveryStates.Delivered, await StatusAsync(db, attempts[0].Id));
        Assert.Equal(AlertDeliveryStates.Dropped, await StatusAsync(db, attempts[1].Id));
        // A dropped delivery never attempted cannot be claimed, nor finished by a stale attempt number.
        Assert.Equal(hooks, (await store.ClaimDueAsync(10, TimeSpan.FromMinutes(5))).Select(d => d.WebhookId).ToArray());
        Assert.False(await store.FinishAsync(attempts[1].Id, 0, AlertDeliveryStates.Delivered, null));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task Pruning_RemovesOnlyTheRecordOfDeliveriesThatEndedLongAgo(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var hooks = await WebhooksAsync(db, 2);
        var store = new AlertDeliveryStore(db);
        await QueueAsync(store, hooks, "check.failed");
        var claimed = await store.ClaimDueAsync(1, TimeSpan.FromMinutes(5));
        Assert.True(await store.FinishAsync(claimed[0].Id, 1, AlertDeliveryStates.GaveUp, "answered 503"));
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE alert_deliveries SET finished_at = finished_at - CAST(86400000 AS BIGINT) * 31 WHERE id = @id",
            new { id = claimed[0].Id }, tx));

        Assert.Equal(1, await store.PruneAsync(TimeSpan.FromDays(30)));
        Assert.Equal(0, await store.PruneAsync(TimeSpan.FromDays(30)));
        var left = Assert.Single(await db.ReadAsync(c => c.QueryAsync<(long WebhookId, string Status)>("SELECT webhook_id, status FROM alert_deliveries")));
        Assert.Equal((hooks[1], AlertDeliveryStates.Pending), left); // a pending one is never pruned, however old
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task RemovingAWebhook_RemovesItsDeliveries(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var hooks = await WebhooksAsync(db, 2);
        var store = new AlertDeliveryStore(db);
        await QueueAsync(store, hooks, "check.failed");
        var project = (await new ProjectStore(db).FindAsync("shop"))!;
        Assert.True(await new AlertWebhookStore(db).RemoveAsync(project.Id, hooks[0]));
        var left = Assert.Single(await store.ClaimDueAsync(10, TimeSpan.FromMinutes(5)));
        Assert.Equal(hooks[1], left.WebhookId);
    }

    public void Dispose() => _dir.Dispose();
}
