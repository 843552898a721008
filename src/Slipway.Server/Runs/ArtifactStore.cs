using Dapper;

namespace Slipway.Server.Runs;

/// <summary>Which artifact (by digest) a job produced at which path.</summary>
public sealed class ArtifactStore(SqlDatabase db)
{
    public Task RecordAsync(long runId, long jobId, long stageIdx, string path, string sha256, long size, bool executable, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            // A retried job replaces what its earlier attempt uploaded under the same path.
            await c.ExecuteAsync("DELETE FROM artifacts WHERE job_id = @jobId AND path = @path", new { jobId, path }, tx);
            await c.ExecuteAsync(
                "INSERT INTO artifacts (run_id, job_id, stage_idx, path, sha256, size, executable, created_at) " +
                "VALUES (@runId, @jobId, @stageIdx, @path, @sha256, @size, @exec, @now)",
                new { runId, jobId, stageIdx, path, sha256, size, exec = executable ? 1 : 0, now }, tx);
        });

    /// <summary>
    /// Artifacts of the run's stages before <paramref name="stageIdx"/>: what a job of that stage downloads. A run that
    /// executes a deployment also gets its release's artifacts (as JOB/PATH, with the digests recorded in the release).
    /// </summary>
    public async Task<IReadOnlyList<ArtifactRow>> ForStagesBeforeAsync(long runId, long stageIdx) =>
        (await db.ReadAsync(c => c.QueryAsync<ArtifactRow>(
            "SELECT id, run_id, job_id, stage_idx, path, sha256, size, executable FROM artifacts WHERE run_id = @runId AND stage_idx < @stageIdx " +
            "UNION ALL SELECT 0, @runId, 0, -1, ra.path, ra.sha256, ra.size, " +
            "COALESCE((SELECT MAX(a.executable) FROM artifacts a WHERE a.sha256 = ra.sha256), 0) " +
            // Through the run's own deployment_id, set when the run is made: the deployment's run_id is written just after,
            // and a job leased in between (a waiting agent is quick) would have got none of the release's files. Once it is
            // written, only that run is the deployment's: a repair run (same deployment_id, no step) gets nothing.
            "FROM release_artifacts ra JOIN deployments d ON d.release_id = ra.release_id JOIN runs r ON r.deployment_id = d.id " +
            "WHERE r.id = @runId AND (d.run_id IS NULL OR d.run_id = r.id) " +
            "ORDER BY 4, 1", new { runId, stageIdx }))).ToList();

    public Task<bool> ExistsAsync(string sha256) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM artifacts WHERE sha256 = @sha256", new { sha256 }) > 0);
}
