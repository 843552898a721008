using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Server.Audit;
using Slipway.Testing;

namespace Slipway.Server.Tests.Audit;

/// <summary>
/// The audit store on both databases: the list's filters (the audit page hides routine entries by default; on PostgreSQL
/// that once failed) and batches written as one statement.
/// </summary>
[Collection("postgres")]
public sealed class AuditQueryDialectTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task HideRoutine_KeepsChangesAndRefusals_OnEitherDatabase(string dialect)
    {
        var store = new AuditStore(await MigratedDatabase.OpenAsync(dialect, _dir, postgres));
        var at = DateTimeOffset.UtcNow;
        AuditEntry Entry(string kind, string action, string outcome) => new(0, at, kind, "someone", null, action, "project:shop", outcome, null, null, "", "");
        await store.AppendAsync(
        [
            Entry(AuditActorKinds.Agent, Actions.AgentWork, AuditOutcomes.Allowed),
            Entry(AuditActorKinds.User, Actions.RunRead, AuditOutcomes.Allowed),
            Entry(AuditActorKinds.User, Actions.RunStart, AuditOutcomes.Succeeded),
            Entry(AuditActorKinds.User, Actions.RunStart, AuditOutcomes.Denied),
        ]);

        var kept = await store.QueryAsync(new AuditQuery(HideRoutine: true));

        Assert.Equal([AuditOutcomes.Denied, AuditOutcomes.Succeeded], kept.Select(e => e.Outcome));
        Assert.Equal(4, (await store.QueryAsync(new AuditQuery())).Count);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public async Task AFullBatchInOneStatement_KeepsEveryEntryVerbatim_AndTheChainVerifies(string dialect)
    {
        var store = new AuditStore(await MigratedDatabase.OpenAsync(dialect, _dir, postgres));
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        // The group commit's largest batch (256), twice, with text that would break a statement pasted together.
        AuditEntry Entry(int i) => new(0, at.AddMilliseconds(i), AuditActorKinds.User, $"o'brien{i}", i % 2 == 0 ? null : "cli",
            Actions.RunStart, $"project:shop'); DROP TABLE audit_log; --{i}", AuditOutcomes.Succeeded, i % 3 == 0 ? null : $"line\nnext @s{i} ${i}", $"req-{i}", "", "");
        var first = await store.AppendAsync(Enumerable.Range(0, 256).Select(Entry).ToList());
        var second = await store.AppendAsync(Enumerable.Range(256, 256).Select(Entry).ToList());

        var stored = new List<AuditEntry>();
        await foreach (var e in store.StreamAsync(new AuditQuery(Limit: 1000))) stored.Add(e);
        Assert.Equal(first.Concat(second).ToList(), stored);
        Assert.Equal(Enumerable.Range(1, 512).Select(i => (long)i), stored.Select(e => e.Sequence));
        Assert.Equal("project:shop'); DROP TABLE audit_log; --511", stored[^1].Target);
        Assert.True(AuditVerifier.Verify(stored).Ok);
    }

    public void Dispose() => _dir.Dispose();
}
