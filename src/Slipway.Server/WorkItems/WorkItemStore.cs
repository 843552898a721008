using System.Data.Common;
using System.Text.Json;
using Dapper;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

public sealed class WorkItemRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Prefix { get; set; } = "";
    public long Number { get; set; }
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Requester { get; set; } = "";
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    /// <summary>Branches and commits linked to the item (the facts its state is derived from).</summary>
    public long Branches { get; set; }
    public long Commits { get; set; }
    /// <summary>The first release that contains the item, or null.</summary>
    public string? Release { get; set; }
    /// <summary>The id of that release (releases are ordered: it and every later one contain the item).</summary>
    public long? ReleaseId { get; set; }

    /// <summary>Change requests naming the item that are open, and that are merged.</summary>
    public long OpenChangeRequests { get; set; }
    public long MergedChangeRequests { get; set; }

    public string Key => new WorkItemKey(Prefix, Number).ToString();
    public WorkItemState State => WorkItemStates.Derive(new WorkItemFacts((int)Branches, (int)Commits, (int)OpenChangeRequests, (int)MergedChangeRequests, Release));
}

/// <summary>One thing that names an item; a run link carries the run's number and current status.</summary>
public sealed class WorkItemLinkRow
{
    public string Kind { get; set; } = "";
    public string Ref { get; set; } = "";
    public long? RunId { get; set; }
    public long? RunNumber { get; set; }
    public string? RunStatus { get; set; }
    public string? Actor { get; set; }
    public long At { get; set; }
}

/// <summary>
/// What a new run says about work items: where it ran and who made and started it, and the project's key prefix
/// and pattern as loaded with the project that started the run (see <see cref="WorkItemStore.LinkRunAsync"/>).
/// <paramref name="KeyPattern"/> is null when the stored pattern cannot be used (<paramref name="PatternError"/> says why).
/// </summary>
public sealed record RunLinkFacts(long ProjectId, long RunId, string Branch, string Commit, string? CommitMessage,
    string? CommitAuthor, string? StartedBy, long Now, string? KeyPrefix, KeyPattern? KeyPattern, string? PatternError = null);

/// <summary>
/// Work items, their project's key prefix and their links (tables work_items, work_item_links). Numbers are
/// allocated with a conditional update of the project row inside the creating transaction, so concurrent
/// creators (SQLite: serialised writers; PostgreSQL: the row lock) get distinct numbers without gaps. Thread-safe.
/// </summary>
public sealed class WorkItemStore(SqlDatabase db)
{
    public const string LinkBranch = "branch";
    public const string LinkCommit = "commit";
    public const string LinkRun = "run";

    private const string ItemColumns =
        "i.id, i.project_id, p.item_key_prefix AS prefix, i.number, i.title, i.description, i.kind, i.requester, i.created_at, i.updated_at, i.updated_by, " +
        "(SELECT COUNT(*) FROM work_item_links l WHERE l.item_id = i.id AND l.kind = 'branch') AS branches, " +
        "(SELECT COUNT(*) FROM work_item_links l WHERE l.item_id = i.id AND l.kind = 'commit') AS commits, " +
        "(SELECT COUNT(*) FROM work_item_change_requests x JOIN change_requests c ON c.id = x.change_request_id WHERE x.item_id = i.id AND c.state = 'open') AS open_change_requests, " +
        "(SELECT COUNT(*) FROM work_item_change_requests x JOIN change_requests c ON c.id = x.change_request_id WHERE x.item_id = i.id AND c.state = 'merged') AS merged_change_requests, " +
        "(SELECT r.version FROM release_items ri JOIN releases r ON r.id = ri.release_id WHERE ri.item_id = i.id ORDER BY r.id LIMIT 1) AS release, " +
        "(SELECT MIN(ri.release_id) FROM release_items ri WHERE ri.item_id = i.id) AS release_id";
    private const string ItemFrom = "FROM work_items i JOIN projects p ON p.id = i.project_id";

    /// <summary>
    /// Sets the project's key prefix and/or key pattern (null: unchanged; an empty pattern: back to the default).
    /// The prefix is refused (<see cref="ConflictException"/>) when another project has it, or when the project
    /// already has items under another prefix: their keys are written in branches and commits. The pattern may
    /// change at any time (it was checked by the caller); it only changes what later runs link.
    /// </summary>
    public Task SetKeyAsync(long projectId, string? prefix, string? pattern) =>
        db.WriteAsync(async (c, tx) =>
        {
            if (pattern is not null)
                await c.ExecuteAsync("UPDATE projects SET item_key_pattern = @pattern WHERE id = @projectId",
                    new { projectId, pattern = pattern.Length == 0 ? null : pattern }, tx);
            if (prefix is null) return;
            var current = await c.ExecuteScalarAsync<string?>("SELECT item_key_prefix FROM projects WHERE id = @projectId", new { projectId }, tx);
            if (current == prefix) return;
            var owner = await c.ExecuteScalarAsync<string?>("SELECT name FROM projects WHERE item_key_prefix = @prefix", new { prefix }, tx);
            if (owner is not null) throw new ConflictException($"the key prefix '{prefix}' belongs to project '{owner}'");
            if (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM work_items WHERE project_id = @projectId", new { projectId }, tx) > 0)
                throw new ConflictException($"the project has work items keyed '{current}-…'; their keys are in branches and commits, so the prefix cannot change");
            await c.ExecuteAsync("UPDATE projects SET item_key_prefix = @prefix WHERE id = @projectId", new { projectId, prefix }, tx);
        });

    public Task<WorkItemRow> CreateAsync(long projectId, string title, string description, WorkItemKind kind, string requester, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var number = await c.ExecuteScalarAsync<long>(
                "UPDATE projects SET next_item_number = next_item_number + 1 WHERE id = @projectId RETURNING next_item_number - 1", new { projectId }, tx);
            await c.ExecuteAsync(
                "INSERT INTO work_items (project_id, number, title, description, kind, requester, created_at, updated_at, updated_by) " +
                "VALUES (@projectId, @number, @title, @description, @kind, @requester, @now, @now, @requester)",
                new { projectId, number, title, description, kind = kind.Name(), requester, now }, tx);
            return await FindAsync(c, tx, projectId, number) ?? throw new InvalidOperationException("the new item vanished");
        });

    public async Task<IReadOnlyList<WorkItemRow>> ListAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<WorkItemRow>(
            $"SELECT {ItemColumns} {ItemFrom} WHERE i.project_id = @projectId ORDER BY i.number", new { projectId }))).ToList();

    public Task<WorkItemRow?> FindAsync(long projectId, long number) => db.ReadAsync(c => FindAsync(c, null, projectId, number));

    private static Task<WorkItemRow?> FindAsync(DbConnection c, DbTransaction? tx, long projectId, long number) =>
        c.QuerySingleOrDefaultAsync<WorkItemRow>(
            $"SELECT {ItemColumns} {ItemFrom} WHERE i.project_id = @projectId AND i.number = @number", new { projectId, number }, tx);

    /// <summary>Changes the given fields (null: unchanged). Null when there is no such item.</summary>
    public Task<WorkItemRow?> UpdateAsync(long projectId, long number, string? title, string? description, WorkItemKind? kind, string user, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var rows = await c.ExecuteAsync(
                "UPDATE work_items SET title = COALESCE(@title, title), description = COALESCE(@description, description), " +
                "kind = COALESCE(@kind, kind), updated_at = @now, updated_by = @user WHERE project_id = @projectId AND number = @number",
                new { projectId, number, title, description, kind = kind?.Name(), user, now }, tx);
            return rows == 0 ? null : await FindAsync(c, tx, projectId, number);
        });

    /// <summary>Everything that names the item, oldest first.</summary>
    public async Task<IReadOnlyList<WorkItemLinkRow>> LinksAsync(long itemId) =>
        (await db.ReadAsync(c => c.QueryAsync<WorkItemLinkRow>(
            "SELECT l.kind, l.ref, l.run_id, r.number AS run_number, r.status AS run_status, l.actor, l.at, l.id AS seq " +
            "FROM work_item_links l LEFT JOIN runs r ON r.id = l.run_id WHERE l.item_id = @itemId " +
            // Releases that contain the item (ref: the version; actor: who created it by hand, null when automatic).
            "UNION ALL SELECT 'release', x.version, x.run_id, u.number, u.status, x.created_by, x.created_at, x.id " +
            "FROM release_items ri JOIN releases x ON x.id = ri.release_id JOIN runs u ON u.id = x.run_id WHERE ri.item_id = @itemId " +
            // Change requests naming it: opened (actor: the author) and, once merged, merged (actor: who merged; ref: the number).
            "UNION ALL SELECT 'change_request', CAST(c.number AS TEXT), NULL, NULL, NULL, c.author, c.created_at, c.id " +
            "FROM work_item_change_requests w JOIN change_requests c ON c.id = w.change_request_id WHERE w.item_id = @itemId " +
            "UNION ALL SELECT 'change_request_merged', CAST(c.number AS TEXT), NULL, NULL, NULL, c.merged_by, c.merged_at, c.id " +
            "FROM work_item_change_requests w JOIN change_requests c ON c.id = w.change_request_id WHERE w.item_id = @itemId AND c.merged_at IS NOT NULL " +
            "ORDER BY at, seq", new { itemId }))).ToList();

    /// <summary>
    /// Links a new run to the items its branch name and commit message name (under the project's prefix; none
    /// without one): the branch, the commit and the run. Keys that name no item become the run's warnings,
    /// which are returned. One transaction, so a run is linked completely or not at all; a run that names no
    /// key costs no database access at all (runs of projects without work items stay as cheap as before).
    /// </summary>
    public async Task<IReadOnlyList<string>> LinkRunAsync(RunLinkFacts run)
    {
        // The prefix comes with the project row the run was started from instead of being read again (one round
        // trip less per run). That is safe: the prefix is fixed once the project has items (SetKeyAsync), and
        // while it has none a key can name nothing anyway.
        if (run.KeyPrefix is not { } prefix) return [];
        var warnings = new List<string>();
        IReadOnlyList<WorkItemKey> inBranch = [], inMessage = [];
        if (run.KeyPattern is not { } pattern)
            warnings.Add($"work item keys were not looked for: the project's key pattern cannot be used ({run.PatternError})");
        else
        {
            var branch = KeyFinder.Find(run.Branch, pattern, prefix);
            var message = KeyFinder.Find(run.CommitMessage, pattern, prefix);
            (inBranch, inMessage) = (branch.Keys, message.Keys);
            // A pattern that backtracks badly on this text: what it found before running out of time is linked.
            if (branch.TimedOut) warnings.Add(TimedOut("the branch name", pattern));
            if (message.TimedOut) warnings.Add(TimedOut("the commit message", pattern));
        }
        if (inBranch.Count == 0 && inMessage.Count == 0 && warnings.Count == 0) return [];
        return await db.WriteAsync<IReadOnlyList<string>>(async (c, tx) =>
        {
            foreach (var key in inBranch.Concat(inMessage).Distinct())
            {
                var itemId = await c.ExecuteScalarAsync<long?>(
                    "SELECT id FROM work_items WHERE project_id = @ProjectId AND number = @number", new { run.ProjectId, number = key.Number }, tx);
                if (itemId is null)
                {
                    var where = inBranch.Contains(key) ? "the branch name" : "the commit message";
                    warnings.Add($"{where} names work item {key}, which does not exist");
                    continue;
                }
                async Task LinkAsync(string kind, string reference, long? runId, string? actor) =>
                    await c.ExecuteAsync(
                        "INSERT INTO work_item_links (item_id, kind, ref, run_id, actor, at) VALUES (@itemId, @kind, @reference, @runId, @actor, @Now) " +
                        "ON CONFLICT (item_id, kind, ref) DO NOTHING",
                        new { itemId, kind, reference, runId, actor, run.Now }, tx);
                if (inBranch.Contains(key)) await LinkAsync(LinkBranch, run.Branch, null, run.CommitAuthor);
                if (inMessage.Contains(key)) await LinkAsync(LinkCommit, run.Commit, null, run.CommitAuthor);
                await LinkAsync(LinkRun, run.RunId.ToString(System.Globalization.CultureInfo.InvariantCulture), run.RunId, run.StartedBy);
            }
            if (warnings.Count > 0)
            {
                // Added to the warnings the run was created with (a release setting of its file that was ignored).
                var earlier = await c.ExecuteScalarAsync<string?>("SELECT warnings FROM runs WHERE id = @RunId", new { run.RunId }, tx);
                var all = (earlier is null ? [] : JsonSerializer.Deserialize<List<string>>(earlier) ?? []).Concat(warnings).ToList();
                await c.ExecuteAsync("UPDATE runs SET warnings = @warnings WHERE id = @RunId",
                    new { warnings = JsonSerializer.Serialize(all), run.RunId }, tx);
            }
            return warnings;
        });
    }

    private static string TimedOut(string where, KeyPattern pattern) =>
        $"looking for work item keys in {where} took too long with the key pattern {pattern.Text}; keys after that point were not linked";
}
