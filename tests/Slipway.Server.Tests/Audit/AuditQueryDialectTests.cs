using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Server.Audit;
using Slipway.Testing;

namespace Slipway.Server.Tests.Audit;

/// <summary>The audit list's filters on both databases (the audit page hides routine entries by default; on PostgreSQL that once failed).</summary>
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

    public void Dispose() => _dir.Dispose();
}
