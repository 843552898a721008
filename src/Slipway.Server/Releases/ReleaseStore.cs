using System.Data.Common;
using Dapper;

namespace Slipway.Server.Releases;

public sealed class ReleaseRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Version { get; set; } = "";
    public long RunId { get; set; }
    public long RunNumber { get; set; }
    public string CommitSha { get; set; } = "";
    public string Branch { get; set; } = "";
    public long CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public string PipelineSnapshot { get; set; } = "";
    public string? TestSummary { get; set; }
    public string Notes { get; set; } = "";
    public long Items { get; set; }
    public long Artifacts { get; set; }
}

public sealed class ReleaseArtifactRow
{
    public string Path { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long Size { get; set; }
}

public sealed class ReleaseItemRow
{
    public long ItemId { get; set; }
    public string Prefix { get; set; } = "";
    public long Number { get; set; }
    public string Title { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Key => $"{Prefix}-{Number}";
}

/// <summary>A release to write: everything is decided before the transaction.</summary>
/// <param name="Parents">The nearest earlier releases its commit descends from (Core ReleaseLineage.ParentsAsync); null when
/// git could not tell (stored as not known: the release contains every release before it).</param>
public sealed record NewRelease(long ProjectId, string Version, long RunId, string Commit, string Branch, long Now, string? CreatedBy,
    string PipelineSnapshot, string? TestSummary, string Notes, IReadOnlyList<ReleaseArtifactRow> Artifacts, IReadOnlyList<long> ItemIds,
    IReadOnlyList<long>? Parents);

/// <summary>A release's id and commit with its recorded parents (null: not known, made before they were recorded).</summary>
public sealed record ReleaseLineageRow(long Id, string CommitSha, IReadOnlyList<long>? Parents);

/// <summary>A succeeded run waiting for its automatic release.</summary>
public sealed class PendingReleaseRow
{
    public long RunId { get; set; }
    public string ReleaseVersion { get; set; } = "";
}

/// <summary>
/// Releases (tables releases, release_artifacts, release_items). Insert-only: no method changes or deletes a
/// release. A release is written in one transaction with its artifacts and items; UNIQUE(run_id) and
/// UNIQUE(project_id, version) make a duplicate impossible even when two writers race. Thread-safe.
/// </summary>
public sealed class ReleaseStore(SqlDatabase db)
{
    private const string Columns =
        "r.id, r.project_id, r.version, r.run_id, u.number AS run_number, r.commit_sha, r.branch, r.created_at, r.created_by, " +
        "r.pipeline_snapshot, r.test_summary, r.notes, " +
        "(SELECT COUNT(*) FROM release_items i WHERE i.release_id = r.id) AS items, " +
        "(SELECT COUNT(*) FROM release_artifacts a WHERE a.release_id = r.id) AS artifacts";
    private const string From = "FROM releases r JOIN runs u ON u.id = r.run_id";

    public async Task<IReadOnlyList<ReleaseRow>> ListAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.project_id = @projectId ORDER BY r.id DESC", new { projectId }))).ToList();

    public Task<ReleaseRow?> FindAsync(long projectId, string version) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.project_id = @projectId AND r.version = @version", new { projectId, version }));

    public Task<ReleaseRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.id = @id", new { id }));

    /// <summary>Many releases by id in one query (an item's story names every later release that carried it).</summary>
    public async Task<IReadOnlyDictionary<long, ReleaseRow>> GetManyAsync(IReadOnlyCollection<long> ids) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.id IN {SqlIds.List(ids)}"))).ToDictionary(r => r.Id);

    /// <summary>The project's release made just before <paramref name="releaseId"/> (the start of its commit range), or null.</summary>
    public Task<ReleaseRow?> PreviousAsync(long projectId, long releaseId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ReleaseRow>(
            $"SELECT {Columns} {From} WHERE r.project_id = @projectId AND r.id < @releaseId ORDER BY r.id DESC LIMIT 1", new { projectId, releaseId }));

    public Task<ReleaseRow?> ForRunAsync(long runId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.run_id = @runId", new { runId }));

    /// <summary>The project's newest release (the start of the next one's commit range), or null.</summary>
    public Task<ReleaseRow?> LatestAsync(long projectId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ReleaseRow>($"SELECT {Columns} {From} WHERE r.project_id = @projectId ORDER BY r.id DESC LIMIT 1", new { projectId }));

    public async Task<IReadOnlyList<ReleaseArtifactRow>> ArtifactsAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseArtifactRow>("SELECT path, sha256, size FROM release_artifacts WHERE release_id = @releaseId ORDER BY path", new { releaseId }))).ToList();

    public async Task<IReadOnlyList<ReleaseItemRow>> ItemsAsync(long releaseId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseItemRow>(
            "SELECT w.id AS item_id, p.item_key_prefix AS prefix, w.number, w.title, w.kind FROM release_items ri " +
            "JOIN work_items w ON w.id = ri.item_id JOIN projects p ON p.id = w.project_id WHERE ri.release_id = @releaseId ORDER BY w.number",
            new { releaseId }))).ToList();

    /// <summary>
    /// Writes the release, or throws <see cref="ConflictException"/> when the run already has one or the version
    /// is taken (checked first; the unique constraints decide a race, reported the same way by the caller).
    /// </summary>
    public Task<long> CreateAsync(NewRelease r) =>
        db.WriteAsync(async (c, tx) =>
        {
            var existing = await c.ExecuteScalarAsync<string?>("SELECT version FROM releases WHERE run_id = @RunId", r, tx);
            if (existing is not null) throw new ConflictException($"run {r.RunId} was released already, as version {existing}");
            if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM releases WHERE project_id = @ProjectId AND version = @Version", r, tx) > 0)
                throw new ConflictException($"version {r.Version} was released already; releases are immutable");
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO releases (project_id, version, run_id, commit_sha, branch, created_at, created_by, pipeline_snapshot, test_summary, notes, parents_known) " +
                "VALUES (@ProjectId, @Version, @RunId, @Commit, @Branch, @Now, @CreatedBy, @PipelineSnapshot, @TestSummary, @Notes, @known) RETURNING id",
                new { r.ProjectId, r.Version, r.RunId, r.Commit, r.Branch, r.Now, r.CreatedBy, r.PipelineSnapshot, r.TestSummary, r.Notes, known = r.Parents is null ? 0 : 1 }, tx);
            foreach (var parentId in (r.Parents ?? []).Distinct())
                await c.ExecuteAsync("INSERT INTO release_parents (release_id, parent_id) VALUES (@id, @parentId)", new { id, parentId }, tx);
            foreach (var a in r.Artifacts)
                await c.ExecuteAsync("INSERT INTO release_artifacts (release_id, path, sha256, size) VALUES (@id, @Path, @Sha256, @Size)",
                    new { id, a.Path, a.Sha256, a.Size }, tx);
            foreach (var itemId in r.ItemIds.Distinct())
                await c.ExecuteAsync("INSERT INTO release_items (release_id, item_id) VALUES (@id, @itemId)", new { id, itemId }, tx);
            return id;
        });

    /// <summary>For each work item of the project, the releases that name it (their notes list it), oldest first.</summary>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<long>>> ItemReleasesAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<(long ItemId, long ReleaseId)>(
            "SELECT ri.item_id, ri.release_id FROM release_items ri JOIN releases r ON r.id = ri.release_id WHERE r.project_id = @projectId ORDER BY ri.release_id",
            new { projectId })))
        .GroupBy(r => r.ItemId).ToDictionary(g => g.Key, g => (IReadOnlyList<long>)g.Select(r => r.ReleaseId).ToList());

    /// <summary>Every release of the project with its commit and parents, oldest first (Core ReleaseLineage reads which contains which).</summary>
    public async Task<IReadOnlyList<ReleaseLineageRow>> LineageAsync(long projectId)
    {
        var rows = await db.ReadAsync(c => c.QueryAsync<(long Id, string CommitSha, long ParentsKnown, long? ParentId)>(
            "SELECT r.id, r.commit_sha, r.parents_known, p.parent_id FROM releases r LEFT JOIN release_parents p ON p.release_id = r.id " +
            "WHERE r.project_id = @projectId ORDER BY r.id", new { projectId }));
        return rows.GroupBy(r => (r.Id, r.CommitSha, r.ParentsKnown))
            .Select(g => new ReleaseLineageRow(g.Key.Id, g.Key.CommitSha,
                g.Key.ParentsKnown == 0 ? null : g.Where(r => r.ParentId is not null).Select(r => r.ParentId!.Value).ToList()))
            .ToList();
    }

    /// <summary>Succeeded runs on their release branch that have no release yet and have not given up.</summary>
    public async Task<IReadOnlyList<PendingReleaseRow>> PendingAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<PendingReleaseRow>(
            "SELECT r.id AS run_id, r.release_version FROM runs r WHERE r.status = 'succeeded' AND r.release_version IS NOT NULL " +
            "AND r.release_error IS NULL AND NOT EXISTS (SELECT 1 FROM releases x WHERE x.run_id = r.id) ORDER BY r.id LIMIT 20"))).ToList();

    /// <summary>Records why the automatic release of a run was given up (it is not tried again).</summary>
    public Task GiveUpAsync(long runId, string error) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE runs SET release_error = @error WHERE id = @runId", new { runId, error }, tx));

    /// <summary>The run's artifacts (job name, path, digest, size) and the test summaries of its jobs.</summary>
    public async Task<(IReadOnlyList<ReleaseArtifactRow> Artifacts, IReadOnlyList<string> TestSummaries)> RunOutputsAsync(long runId) =>
        await db.ReadAsync(async c =>
        {
            var artifacts = (await c.QueryAsync<ReleaseArtifactRow>(
                "SELECT j.name || '/' || a.path AS path, a.sha256, a.size FROM artifacts a JOIN jobs j ON j.id = a.job_id WHERE a.run_id = @runId ORDER BY j.name, a.path",
                new { runId })).ToList();
            var summaries = (await c.QueryAsync<string>("SELECT test_summary FROM jobs WHERE run_id = @runId AND test_summary IS NOT NULL ORDER BY id", new { runId })).ToList();
            return ((IReadOnlyList<ReleaseArtifactRow>)artifacts, (IReadOnlyList<string>)summaries);
        });

    /// <summary>The project's work items by key number (to match keys found in commit messages).</summary>
    public async Task<IReadOnlyDictionary<long, ReleaseItemRow>> ItemsByNumberAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseItemRow>(
            "SELECT w.id AS item_id, p.item_key_prefix AS prefix, w.number, w.title, w.kind FROM work_items w JOIN projects p ON p.id = w.project_id WHERE w.project_id = @projectId",
            new { projectId }))).ToDictionary(i => i.Number);
}
