using Dapper;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Commits being pushed as merges but not yet recorded as merged, in the database so that every server node sees them:
/// a poll on any node fetching between the push and the record would otherwise take Slipway's own merge for a direct
/// push to a protected branch. A row left by a node that died mid-merge stops counting after <see cref="Forgotten"/>.
/// </summary>
public sealed class MergesInFlight(SqlDatabase database, TimeProvider clock)
{
    public static readonly TimeSpan Forgotten = TimeSpan.FromMinutes(10);

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<IAsyncDisposable> BeginAsync(long projectId, string commit)
    {
        var now = Now();
        await database.WriteAsync((c, tx) => c.ExecuteAsync(
            """
            INSERT INTO merges_in_flight (project_id, commit_sha, started_at) VALUES (@projectId, @commit, @now)
            ON CONFLICT (project_id, commit_sha) DO UPDATE SET started_at = @now
            """, new { projectId, commit, now }, tx));
        return new End(() => database.WriteAsync((c, tx) => c.ExecuteAsync(
            "DELETE FROM merges_in_flight WHERE project_id = @projectId AND commit_sha = @commit", new { projectId, commit }, tx)));
    }

    public Task<bool> ContainsAsync(long projectId, string commit) => database.ReadAsync(async c =>
        await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM merges_in_flight WHERE project_id = @projectId AND commit_sha = @commit AND started_at > @since",
            new { projectId, commit, since = Now() - (long)Forgotten.TotalMilliseconds }) > 0);

    private sealed class End(Func<Task> action) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await action();
    }
}
