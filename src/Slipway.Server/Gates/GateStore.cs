using Dapper;
using Slipway.Core.Gates;

namespace Slipway.Server.Gates;

public sealed class GateRow
{
    public long Id { get; set; }
    public long EnvironmentId { get; set; }
    public string Kind { get; set; } = "";
    public string? MeasuredOn { get; set; }
    public string? Rule { get; set; }
    public string? SignoffKind { get; set; }
    public string? Role { get; set; }
    public string CreatedBy { get; set; } = "";
    public long CreatedAt { get; set; }

    public GateDefinition ToDefinition() => new(Id, GateDefinition.ParseKind(Kind), MeasuredOn,
        Rule is null ? null : MetricRuleParser.Parse(Rule), SignoffKind, Role);
}

public sealed class SignOffRow
{
    public long Id { get; set; }
    public long ReleaseId { get; set; }
    public string Environment { get; set; } = "";
    public string Kind { get; set; } = "";
    public bool Accepted { get; set; }
    public string Notes { get; set; } = "";
    public string SignedBy { get; set; } = "";
    public string SignerRoles { get; set; } = "";
    public string? Charter { get; set; }
    public long? Minutes { get; set; }
    public string? Findings { get; set; }
    public long SignedAt { get; set; }

    public Contracts.Api.SignOffDto ToDto(string version, IReadOnlyList<string>? filed = null, IReadOnlyList<Contracts.Api.SignOffAttachmentDto>? attachments = null) =>
        new(Id, version, Environment, Kind, Accepted ? "accept" : "reject", Notes, SignedBy, DateTimeOffset.FromUnixTimeMilliseconds(SignedAt),
            Charter, Minutes, Findings?.Split('\n') ?? [], filed ?? [], attachments ?? []);

    public SignOff ToSignOff() => new(Id, Kind, Environment, Accepted, SignedBy,
        SignerRoles.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal), DateTimeOffset.FromUnixTimeMilliseconds(SignedAt), Notes);
}

public sealed class MetricRow
{
    public long RunId { get; set; }
    public long JobId { get; set; }
    public string? Job { get; set; }
    public string File { get; set; } = "";
    public string Format { get; set; } = "";
    public string Metric { get; set; } = "";
    public string Stat { get; set; } = "";
    public double Value { get; set; }
    public string? Unit { get; set; }
    /// <summary>Where it was measured: an environment's name for a deployment's run, else null (a CI run).</summary>
    public string? Environment { get; set; }
    public string? Version { get; set; }

    public MetricValue ToValue() => new(Metric, Stat, Value, Unit);
    public Contracts.Api.MetricDto ToDto() => new(Job ?? "", Metric, Stat, Value, Unit, File, Format);
}

public sealed class SignOffAttachmentRow
{
    public long Id { get; set; }
    public long SignoffId { get; set; }
    public string Name { get; set; } = "";
    public string ContentType { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long Size { get; set; }
    public long AddedAt { get; set; }
}

public sealed class GateResultRow
{
    public long DeploymentId { get; set; }
    public int Position { get; set; }
    public string Gate { get; set; } = "";
    public string Outcome { get; set; } = "";
    public string Detail { get; set; } = "";
    public double? Measured { get; set; }
    public double? Baseline { get; set; }

    public Contracts.Api.GateResultDto ToDto() => new(Gate, Outcome, Detail, Measured, Baseline);
}

/// <summary>
/// Quality-gate data: each environment's gates, the metrics jobs reported, sign-offs, and the gate results recorded
/// with each deployment. Plain reads and inserts; the rules are in <see cref="GateChecklist"/> and <see cref="GateService"/>.
/// </summary>
public sealed class GateStore(SqlDatabase db)
{
    private const string GateColumns = "id, environment_id, kind, measured_on, rule, signoff_kind, role, created_by, created_at";

    private const string ListSql = $"SELECT {GateColumns} FROM environment_gates WHERE environment_id = @environmentId ORDER BY id";

    public async Task<IReadOnlyList<GateRow>> ListAsync(long environmentId) =>
        (await db.ReadAsync(c => c.QueryAsync<GateRow>(ListSql, new { environmentId }))).ToList();

    /// <summary>The project's sign-off gates of one kind, on every environment (who may sign, and where it counts).</summary>
    public async Task<IReadOnlyList<GateRow>> SignOffGatesAsync(long projectId, string kind) =>
        (await db.ReadAsync(c => c.QueryAsync<GateRow>(
            "SELECT g.id, g.environment_id, g.kind, g.measured_on, g.rule, g.signoff_kind, g.role, g.created_by, g.created_at " +
            "FROM environment_gates g JOIN environments e ON e.id = g.environment_id " +
            "WHERE e.project_id = @projectId AND g.kind = 'signoff' AND g.signoff_kind = @kind ORDER BY g.id", new { projectId, kind }))).ToList();

    /// <summary>
    /// Adds the gate unless the environment has the same gate (<see cref="GateDefinition.SameAs"/>): then nothing is added and
    /// that one is answered. The check and the insert are one transaction, serialised per environment (an advisory lock on
    /// PostgreSQL; SQLite's writes are serial), so two people adding it at once add it once.
    /// </summary>
    public Task<(long Id, GateRow? Existing)> AddAsync(long environmentId, GateDefinition gate, string by, long now) =>
        db.WriteAsync<(long, GateRow?)>(async (c, tx) =>
        {
            await DatabaseLocks.InTransactionAsync(db, c, tx, $"gates:{environmentId}");
            var existing = (await c.QueryAsync<GateRow>(ListSql, new { environmentId }, tx)).FirstOrDefault(g => g.ToDefinition().SameAs(gate));
            if (existing is not null) return (existing.Id, existing);
            return (await c.ExecuteScalarAsync<long>(
                "INSERT INTO environment_gates (environment_id, kind, measured_on, rule, signoff_kind, role, created_by, created_at) " +
                "VALUES (@environmentId, @kind, @MeasuredOn, @rule, @SignOffKind, @Role, @by, @now) RETURNING id",
                new { environmentId, kind = GateDefinition.KindName(gate.Kind), gate.MeasuredOn, rule = gate.Rule?.Text, gate.SignOffKind, gate.Role, by, now }, tx), null);
        });

    public Task<bool> RemoveAsync(long environmentId, long id) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync("DELETE FROM environment_gates WHERE environment_id = @environmentId AND id = @id",
            new { environmentId, id }, tx) == 1);

    /// <summary>Stores the values of one job's metrics file (replacing what an earlier attempt of the job stored).</summary>
    public Task RecordMetricsAsync(long jobId, long runId, string file, string format, IReadOnlyList<MetricValue> values, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM job_metrics WHERE job_id = @jobId", new { jobId }, tx);
            foreach (var v in values)
                await c.ExecuteAsync("INSERT INTO job_metrics (job_id, run_id, file, format, metric, stat, value, unit, recorded_at) " +
                                     "VALUES (@jobId, @runId, @file, @format, @Metric, @Stat, @Value, @Unit, @now)",
                    new { jobId, runId, file, format, v.Metric, v.Stat, v.Value, v.Unit, now }, tx);
        });

    public async Task<IReadOnlyList<MetricRow>> MetricsOfRunAsync(long runId) =>
        (await db.ReadAsync(c => c.QueryAsync<MetricRow>(
            "SELECT m.run_id, m.job_id, j.name AS job, m.file, m.format, m.metric, m.stat, m.value, m.unit FROM job_metrics m JOIN jobs j ON j.id = m.job_id " +
            "WHERE m.run_id = @runId ORDER BY m.id", new { runId }))).ToList();

    /// <summary>
    /// What a release measured where: per environment the values of its latest deployment run there that reported any,
    /// and under <see cref="GateDefinition.Ci"/> those of the release's own run.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricValue>>> MeasuredAsync(long releaseId)
    {
        var rows = (await db.ReadAsync(c => c.QueryAsync<MetricRow>(
            "SELECT m.run_id, m.job_id, m.file, m.format, m.metric, m.stat, m.value, m.unit, e.name AS environment FROM job_metrics m " +
            "JOIN deployments d ON d.run_id = m.run_id JOIN environments e ON e.id = d.environment_id WHERE d.release_id = @releaseId " +
            "UNION ALL SELECT m.run_id, m.job_id, m.file, m.format, m.metric, m.stat, m.value, m.unit, 'ci' AS environment FROM job_metrics m " +
            "JOIN releases r ON r.run_id = m.run_id WHERE r.id = @releaseId", new { releaseId }))).ToList();
        return rows.GroupBy(r => r.Environment!)
            .ToDictionary(g => g.Key, g =>
            {
                var latest = g.Max(r => r.RunId);
                return (IReadOnlyList<MetricValue>)g.Where(r => r.RunId == latest).Select(r => r.ToValue()).ToList();
            }, StringComparer.Ordinal);
    }

    /// <summary>One metric's history on an environment: per release its latest deployment run's value, oldest first.</summary>
    public async Task<IReadOnlyList<(string Version, double Value, string? Unit)>> TrendAsync(long environmentId, string metric, string stat, int limit = 10)
    {
        var rows = (await db.ReadAsync(c => c.QueryAsync<MetricRow>(
            "SELECT m.run_id, m.value, m.unit, r.version FROM job_metrics m JOIN deployments d ON d.run_id = m.run_id JOIN releases r ON r.id = d.release_id " +
            "WHERE d.environment_id = @environmentId AND m.metric = @metric AND m.stat = @stat ORDER BY m.run_id DESC LIMIT 200",
            new { environmentId, metric, stat }))).ToList();
        return rows.GroupBy(r => r.Version!).Select(g => g.First()).Take(limit).Reverse().Select(r => (r.Version!, r.Value, r.Unit)).ToList();
    }

    /// <summary>Environments where a deployment of the release succeeded with a verify job that passed.</summary>
    public async Task<IReadOnlySet<string>> VerifiedOnAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<string>(
            "SELECT DISTINCT e.name FROM deployments d JOIN environments e ON e.id = d.environment_id JOIN jobs j ON j.run_id = d.run_id " +
            "WHERE d.release_id = @releaseId AND d.state = 'succeeded' AND j.name = 'verify' AND j.status = 'succeeded'", new { releaseId }))).ToHashSet(StringComparer.Ordinal);

    public async Task<IReadOnlyList<SignOffRow>> SignOffsAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<SignOffRow>(
            "SELECT s.id, s.release_id, e.name AS environment, s.kind, s.accepted, s.notes, s.signed_by, s.signer_roles, s.charter, s.minutes, s.findings, s.signed_at " +
            "FROM signoffs s JOIN environments e ON e.id = s.environment_id WHERE s.release_id = @releaseId ORDER BY s.id", new { releaseId }))).ToList();

    /// <summary>The sign-offs of many releases in one query, by release, each release's in the order they were given.</summary>
    public async Task<ILookup<long, SignOffRow>> SignOffsAsync(IReadOnlyCollection<long> releaseIds) =>
        (await db.ReadAsync(c => c.QueryAsync<SignOffRow>(
            "SELECT s.id, s.release_id, e.name AS environment, s.kind, s.accepted, s.notes, s.signed_by, s.signer_roles, s.charter, s.minutes, s.findings, s.signed_at " +
            $"FROM signoffs s JOIN environments e ON e.id = s.environment_id WHERE s.release_id IN {SqlIds.List(releaseIds)} ORDER BY s.id"))).ToLookup(s => s.ReleaseId);

    /// <summary>Whether any release of the project has a sign-off (the demo story's last step).</summary>
    public async Task<bool> AnySignOffAsync(long projectId) =>
        await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM signoffs s JOIN releases r ON r.id = s.release_id WHERE r.project_id = @projectId", new { projectId })) > 0;

    public Task<long> AddSignOffAsync(long releaseId, long environmentId, string kind, bool accepted, string notes, string by, string roles,
        string? charter, long? minutes, string? findings, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO signoffs (release_id, environment_id, kind, accepted, notes, signed_by, signer_roles, charter, minutes, findings, signed_at) " +
            "VALUES (@releaseId, @environmentId, @kind, @accepted, @notes, @by, @roles, @charter, @minutes, @findings, @now) RETURNING id",
            new { releaseId, environmentId, kind, accepted, notes, by, roles, charter, minutes, findings, now }, tx));

    /// <summary>
    /// Adds an attachment unless the sign-off has <paramref name="max"/> already (null then). SQLite has one writer; on
    /// PostgreSQL the sign-off's row is locked first, so two uploads at once cannot both be counted as the tenth.
    /// </summary>
    public Task<long?> AddAttachmentAsync(long signOffId, string name, string contentType, string sha256, long size, int max, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (SqlDialects.Of(c) == SqlDialect.Postgres)
                await c.ExecuteAsync("SELECT id FROM signoffs WHERE id = @signOffId FOR UPDATE", new { signOffId }, tx);
            return await c.ExecuteScalarAsync<long?>(
                "INSERT INTO signoff_attachments (signoff_id, name, content_type, sha256, size, added_at) " +
                "SELECT @signOffId, @name, @contentType, @sha256, @size, @now WHERE (SELECT COUNT(*) FROM signoff_attachments WHERE signoff_id = @signOffId) < @max RETURNING id",
                new { signOffId, name, contentType, sha256, size, max, now }, tx);
        });

    public async Task<ILookup<long, SignOffAttachmentRow>> AttachmentsAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<SignOffAttachmentRow>(
            "SELECT a.id, a.signoff_id, a.name, a.content_type, a.sha256, a.size, a.added_at FROM signoff_attachments a JOIN signoffs s ON s.id = a.signoff_id " +
            "WHERE s.release_id = @releaseId ORDER BY a.id", new { releaseId }))).ToLookup(a => a.SignoffId);

    public Task RecordResultsAsync(long deploymentId, IReadOnlyList<GateResult> results) =>
        db.WriteAsync(async (c, tx) =>
        {
            for (var i = 0; i < results.Count; i++)
                await c.ExecuteAsync("INSERT INTO deployment_gate_results (deployment_id, position, gate, outcome, detail, measured, baseline) " +
                                     "VALUES (@deploymentId, @i, @gate, @outcome, @Detail, @Measured, @Baseline)",
                    new { deploymentId, i, gate = results[i].Gate.Describe(), outcome = GateResult.OutcomeName(results[i].Outcome), results[i].Detail,
                          results[i].Measured, results[i].Baseline }, tx);
        });

    public async Task<IReadOnlyList<GateResultRow>> ResultsAsync(long deploymentId) =>
        (await db.ReadAsync(c => c.QueryAsync<GateResultRow>(
            "SELECT deployment_id, position, gate, outcome, detail, measured, baseline FROM deployment_gate_results WHERE deployment_id = @deploymentId ORDER BY position",
            new { deploymentId }))).ToList();
}
