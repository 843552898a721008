using System.Runtime.CompilerServices;
using Dapper;
using Slipway.Core.Audit;

namespace Slipway.Server.Audit;

public sealed class AuditRow
{
    public long Seq { get; set; }
    public long At { get; set; }
    public string ActorKind { get; set; } = "";
    public string Actor { get; set; } = "";
    public string? Source { get; set; }
    public string Action { get; set; } = "";
    public string? Target { get; set; }
    public string Outcome { get; set; } = "";
    public string? Detail { get; set; }
    public string? RequestId { get; set; }
    public string PrevHash { get; set; } = "";
    public string Hash { get; set; } = "";

    public AuditEntry ToEntry() => new(Seq, DateTimeOffset.FromUnixTimeMilliseconds(At), ActorKind, Actor, Source, Action, Target,
        Outcome, Detail, RequestId, PrevHash, Hash);
}

/// <summary>Filters of the audit list and export; every one optional.</summary>
/// <param name="UpToSeq">Only entries up to this sequence (a verification walks the log as it was when it began).</param>
/// <param name="HideRoutine">Leave out routine entries (<see cref="RoutineEntries"/>): allowed agent traffic and reads.</param>
public sealed record AuditQuery(long? From = null, long? To = null, string? Actor = null, string? Action = null,
    string? Outcome = null, string? Target = null, long? BeforeSeq = null, int Limit = 100, long? UpToSeq = null, bool HideRoutine = false);

/// <summary>
/// The audit table: append (sealed into the hash chain) and read. There is deliberately no update or delete
/// here, and the schema's triggers refuse them. Appends are serialised — SQLite by the single writer, PostgreSQL
/// by a transaction-scoped advisory lock — so each entry's previous hash is the true last hash even with
/// several servers on one database.
/// </summary>
public sealed class AuditStore(SqlDatabase db)
{
    private const long AppendLockKey = 0x534C_4950_4155_4449; // "SLIPAUDI"
    private const string Columns = "seq, at, actor_kind, actor, source, action, target, outcome, detail, request_id, prev_hash, hash";

    /// <summary>Seals the entries onto the end of the chain and inserts them in one transaction.</summary>
    public Task<IReadOnlyList<AuditEntry>> AppendAsync(IReadOnlyList<AuditEntry> unsealed) =>
        db.WriteAsync<IReadOnlyList<AuditEntry>>(async (c, tx) =>
        {
            if (db.Dialect == SqlDialect.Postgres)
                await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@AppendLockKey)", new { AppendLockKey }, tx);
            var last = await c.QuerySingleOrDefaultAsync<ChainHead>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", transaction: tx);
            var seq = last?.Seq ?? 0;
            var previous = last?.Hash ?? AuditChain.GenesisHash;
            var sealedEntries = new List<AuditEntry>(unsealed.Count);
            foreach (var entry in unsealed)
            {
                var sealedEntry = AuditChain.Seal(entry with { Sequence = ++seq }, previous);
                previous = sealedEntry.Hash;
                sealedEntries.Add(sealedEntry);
            }
            await c.ExecuteAsync(InsertStatement(sealedEntries, out var args), args, tx);
            return sealedEntries;
        });

    /// <summary>
    /// One INSERT for the whole batch: the chain's lock is held while it runs, and one row per statement made every entry
    /// of a batch one more round trip under it (issue 15: the nodes of a cluster queue on this lock).
    /// </summary>
    private static string InsertStatement(IReadOnlyList<AuditEntry> entries, out DynamicParameters args)
    {
        args = new DynamicParameters();
        var rows = new List<string>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            rows.Add($"(@s{i}, @at{i}, @k{i}, @a{i}, @src{i}, @act{i}, @t{i}, @o{i}, @d{i}, @r{i}, @p{i}, @h{i})");
            args.Add($"s{i}", e.Sequence);
            args.Add($"at{i}", e.At.ToUnixTimeMilliseconds());
            args.Add($"k{i}", e.ActorKind);
            args.Add($"a{i}", e.Actor);
            args.Add($"src{i}", e.Source);
            args.Add($"act{i}", e.Action);
            args.Add($"t{i}", e.Target);
            args.Add($"o{i}", e.Outcome);
            args.Add($"d{i}", e.Detail);
            args.Add($"r{i}", e.RequestId);
            args.Add($"p{i}", e.PreviousHash);
            args.Add($"h{i}", e.Hash);
        }
        return $"INSERT INTO audit_log ({Columns}) VALUES {string.Join(", ", rows)}";
    }

    /// <summary>Newest first, filtered; page with <see cref="AuditQuery.BeforeSeq"/>.</summary>
    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditQuery q)
    {
        var (where, args) = Where(q);
        if (q.BeforeSeq is not null) where += " AND seq < @BeforeSeq";
        var rows = await db.ReadAsync(c => c.QueryAsync<AuditRow>(
            $"SELECT {Columns} FROM audit_log WHERE {where} ORDER BY seq DESC LIMIT @Limit", args));
        return rows.Select(r => r.ToEntry()).ToList();
    }

    /// <summary>Oldest first, streamed (verify and export do not hold the log in memory).</summary>
    public async IAsyncEnumerable<AuditEntry> StreamAsync(AuditQuery q, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (where, args) = Where(q);
        await using var connection = await db.OpenAsync(ct);
        await using var reader = await connection.ExecuteReaderAsync(
            new CommandDefinition($"SELECT {Columns} FROM audit_log WHERE {where} ORDER BY seq", args, cancellationToken: ct));
        var parse = reader.GetRowParser<AuditRow>();
        while (await reader.ReadAsync(ct))
            yield return parse(reader).ToEntry();
    }

    /// <summary>The newest entry's sequence (0 for an empty log).</summary>
    public Task<long> NewestSequenceAsync() =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(seq), 0) FROM audit_log"));

    private sealed class ChainHead
    {
        public long Seq { get; set; }
        public string Hash { get; set; } = "";
    }

    /// <summary>Oldest first through a synchronous, unbuffered cursor (for the verifier); the connection closes when enumeration ends.</summary>
    public IEnumerable<AuditEntry> Stream(AuditQuery q)
    {
        var (where, args) = Where(q);
        using var connection = db.OpenAsync().GetAwaiter().GetResult();
        foreach (var row in connection.Query<AuditRow>($"SELECT {Columns} FROM audit_log WHERE {where} ORDER BY seq", args, buffered: false))
            yield return row.ToEntry();
    }

    private static (string Where, DynamicParameters Args) Where(AuditQuery q)
    {
        var clauses = new List<string> { "1 = 1" };
        var args = new DynamicParameters(q);
        if (q.From is not null) clauses.Add("at >= @From");
        if (q.To is not null) clauses.Add("at < @To");
        if (q.UpToSeq is not null) clauses.Add("seq <= @UpToSeq");
        if (!string.IsNullOrEmpty(q.Actor)) clauses.Add("actor = @Actor");
        if (!string.IsNullOrEmpty(q.Action)) clauses.Add("action = @Action");
        if (!string.IsNullOrEmpty(q.Outcome)) clauses.Add("outcome = @Outcome");
        if (!string.IsNullOrEmpty(q.Target))
        {
            args.Add("TargetLike", "%" + q.Target.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
            clauses.Add("target LIKE @TargetLike ESCAPE '\\'");
        }
        if (q.HideRoutine)
        {
            // The same rule as RoutineEntries.IsRoutine, in SQL.
            args.Add("RoutineOutcome", AuditOutcomes.Allowed);
            args.Add("RoutineActorKind", AuditActorKinds.Agent);
            // The read actions are the catalogue's own constants, so they are written into the SQL: Dapper expands
            // "IN @list" on SQLite but hands Npgsql an array, which PostgreSQL refused here as a syntax error.
            clauses.Add("NOT (outcome = @RoutineOutcome AND (actor_kind = @RoutineActorKind OR action IN (" +
                        string.Join(", ", RoutineEntries.ReadActions.Select(a => $"'{a}'")) + ")))");
        }
        return (string.Join(" AND ", clauses), args);
    }

    /// <param name="expectHead">A head hash recorded earlier outside the database: also detects removal of the newest entries.</param>
    /// <summary>Walks the hash chain (<see cref="AuditVerifier"/>) up to the newest entry and says where it breaks, if it does.</summary>
    public async Task<Contracts.Api.AuditVerificationDto> VerifyChainAsync(string? expectHead, CancellationToken ct)
    {
        // The chain as it is now: up to the newest entry (this request's own entry, written before the endpoint ran),
        // not chasing entries appended while it is walked.
        var newest = await NewestSequenceAsync();
        var expected = string.IsNullOrWhiteSpace(expectHead) ? null : expectHead.Trim().ToLowerInvariant();
        // The verifier walks a synchronous cursor (one entry of look-ahead); run it off the request thread.
        var result = await Task.Run(() => AuditVerifier.Verify(Stream(new AuditQuery(UpToSeq: newest)), expectedHead: expected), ct);
        return new Contracts.Api.AuditVerificationDto(result.Ok, result.EntriesChecked, result.FirstBadSequence, result.Problem, result.HeadHash, result.HeadSequence,
            result.ExpectedHeadSequence, result.EntriesAfterExpectedHead);
    }
}
