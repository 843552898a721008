using Npgsql;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Bench.Scale;

/// <summary>
/// Appends a year of audit entries to the hash chain, sealed with <see cref="AuditChain"/> exactly as the server seals
/// its own, after whatever the server wrote while migrating (so <c>slipway audit verify</c> stays valid). The mix is a
/// busy installation's: mostly routine entries (agent traffic, reads) that the audit page hides by default, then
/// changes, then refusals. The times are historical although the entries come after the server's first ones: the chain
/// covers order and content, not the clock. Must run while no server is up: the server appends under a lock this
/// seeder does not take.
/// </summary>
public sealed class AuditSeeder(NpgsqlConnection connection, int entries, int projects)
{
    private static readonly string[] Reads = [Actions.RunRead, Actions.ProjectRead, Actions.LogRead, Actions.DeploymentRead, Actions.ItemRead];
    private static readonly string[] Changes = [Actions.RunStart, Actions.DeploymentStart, Actions.ChangeRequestMerge, Actions.ItemWrite,
        Actions.DeploymentApprove, Actions.ChangeRequestReview];

    public async Task SeedAsync()
    {
        var (sequence, previous) = await HeadAsync();
        var random = new Random(16);
        var start = DateTimeOffset.UtcNow.AddDays(-365).ToUnixTimeMilliseconds();
        var step = 365L * 86_400_000 / Math.Max(1, entries);
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY audit_log (seq, at, actor_kind, actor, source, action, target, outcome, detail, request_id, prev_hash, hash) FROM STDIN (FORMAT BINARY)");
        for (var i = 0; i < entries; i++)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(start + i * step);
            var entry = AuditChain.Seal(Entry(random, ++sequence, at), previous);
            previous = entry.Hash;
            await writer.StartRowAsync();
            await writer.WriteAsync(entry.Sequence, NpgsqlTypes.NpgsqlDbType.Bigint);
            await writer.WriteAsync(entry.At.ToUnixTimeMilliseconds(), NpgsqlTypes.NpgsqlDbType.Bigint);
            foreach (var text in new[] { entry.ActorKind, entry.Actor, entry.Source, entry.Action, entry.Target, entry.Outcome, entry.Detail,
                         entry.RequestId, entry.PreviousHash, entry.Hash })
            {
                if (text is null) await writer.WriteNullAsync();
                else await writer.WriteAsync(text, NpgsqlTypes.NpgsqlDbType.Text);
            }
        }
        await writer.CompleteAsync();
    }

    private async Task<(long Sequence, string Hash)> HeadAsync()
    {
        await using var command = new NpgsqlCommand("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditChain.GenesisHash);
    }

    /// <summary>60 % agent traffic, 25 % reads, 12 % changes, 3 % refusals.</summary>
    private AuditEntry Entry(Random random, long sequence, DateTimeOffset at)
    {
        var project = $"project:svc{random.Next(1, projects + 1):D2}";
        var requestId = random.NextInt64().ToString("x16");
        var roll = random.NextDouble();
        var (kind, actor, action, target, outcome, detail) = roll switch
        {
            < 0.60 => (AuditActorKinds.Agent, $"agent-{random.Next(1, 101):D3}", Actions.AgentWork, $"job:{random.Next(1, 300_000)}", AuditOutcomes.Allowed, (string?)null),
            < 0.85 => (AuditActorKinds.User, User(random), Reads[random.Next(Reads.Length)], project, AuditOutcomes.Allowed, null),
            < 0.97 => (AuditActorKinds.User, User(random), Changes[random.Next(Changes.Length)], project, AuditOutcomes.Succeeded, "a change, described"),
            _ => (AuditActorKinds.User, User(random), Changes[random.Next(Changes.Length)], project, AuditOutcomes.Denied, "missing permission"),
        };
        return new AuditEntry(sequence, at, kind, actor, "127.0.0.1", action, target, outcome, detail, requestId, "", "");
    }

    private static string User(Random random) => random.Next(5) switch { 0 => "admin", 1 => "dev", 2 => "analyst", 3 => "reviewer", _ => "ops" };
}
