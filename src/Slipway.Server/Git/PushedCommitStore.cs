using Dapper;

namespace Slipway.Server.Git;

/// <summary>The commits each push brought into a hosted repository, with the user who pushed them (<see cref="PushRecorder"/>).</summary>
public sealed class PushedCommitStore(SqlDatabase db)
{
    /// <summary>Rows per statement: well under SQLite's parameter limit, and few round trips for a large first push.</summary>
    private const int Batch = 300;

    public Task RecordAsync(long projectId, string pushedBy, IReadOnlyList<string> shas, long now) =>
        shas.Count == 0 ? Task.CompletedTask : db.WriteAsync(async (c, tx) =>
        {
            foreach (var chunk in shas.Chunk(Batch))
            {
                var values = new DynamicParameters(new { projectId, pushedBy, now });
                var rows = new List<string>(chunk.Length);
                for (var i = 0; i < chunk.Length; i++)
                {
                    values.Add("s" + i, chunk[i]);
                    rows.Add($"(@projectId, @s{i}, @pushedBy, @now)");
                }
                await c.ExecuteAsync("INSERT INTO pushed_commits (project_id, sha, pushed_by, pushed_at) VALUES " + string.Join(", ", rows) +
                                     " ON CONFLICT (project_id, sha, pushed_by) DO NOTHING", values, tx);
            }
        });

    /// <summary>Who pushed each of <paramref name="shas"/> (commits nobody pushed through Slipway are left out).</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> PushersAsync(long projectId, IReadOnlyList<string> shas)
    {
        var found = new List<(string Sha, string PushedBy)>();
        foreach (var chunk in shas.Distinct(StringComparer.Ordinal).Chunk(Batch))
        {
            // Parameters written out rather than "IN @list", which Dapper renders differently for SQLite and Npgsql.
            var values = new DynamicParameters(new { projectId });
            for (var i = 0; i < chunk.Length; i++) values.Add("s" + i, chunk[i]);
            var list = string.Join(", ", Enumerable.Range(0, chunk.Length).Select(i => "@s" + i));
            found.AddRange(await db.ReadAsync(c => c.QueryAsync<(string, string)>(
                $"SELECT sha, pushed_by FROM pushed_commits WHERE project_id = @projectId AND sha IN ({list}) ORDER BY pushed_at, pushed_by", values)));
        }
        return found.GroupBy(f => f.Sha, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(f => f.PushedBy).Distinct(StringComparer.OrdinalIgnoreCase).ToList(), StringComparer.Ordinal);
    }
}
