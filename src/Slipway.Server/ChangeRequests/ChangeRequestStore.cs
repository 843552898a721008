using System.Data.Common;
using System.Text.Json;
using Dapper;
using Slipway.Core.ChangeRequests;

namespace Slipway.Server.ChangeRequests;

public sealed class ChangeRequestRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public long Number { get; set; }
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    public string SourceBranch { get; set; } = "";
    public string TargetBranch { get; set; } = "";
    public string Author { get; set; } = "";
    public string State { get; set; } = "";
    public string HeadSha { get; set; } = "";
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public long? MergedAt { get; set; }
    public string? MergedBy { get; set; }
    public string? MergeCommit { get; set; }
    public string? TargetSha { get; set; }
    public string? MergeStrategy { get; set; }
    public long? ClosedAt { get; set; }
    public string? ClosedBy { get; set; }
    public string? AutoMergeBy { get; set; }
    public string? AutoMergeStrategy { get; set; }
    public string? AutoMergeError { get; set; }
    public string? Warnings { get; set; }

    public ChangeRequestState StateValue => ChangeRequestTransitions.Parse(State) ?? throw new InvalidDataException($"unknown change request state '{State}'");
    public string Subject => $"change request #{Number}";
    public IReadOnlyList<string> WarningList => Warnings is null ? [] : JsonSerializer.Deserialize<List<string>>(Warnings) ?? [];
}

public sealed class ReviewRow
{
    public long Id { get; set; }
    public string Reviewer { get; set; } = "";
    public string Verdict { get; set; } = "";
    public string Comment { get; set; } = "";
    public string HeadSha { get; set; } = "";
    public long At { get; set; }

    public Review ToReview() => new(Reviewer, Reviews.Parse(Verdict), HeadSha, At);
}

public sealed class RulesRow
{
    public string Branch { get; set; } = "";
    public long RequiredApprovals { get; set; }
    public bool DismissStaleApprovals { get; set; }
    public string UpdatedBy { get; set; } = "";
    public long UpdatedAt { get; set; }
    public MergeRules Rules => new((int)RequiredApprovals, DismissStaleApprovals);
}

/// <summary>A change request to write; its work items are linked in the same transaction.</summary>
public sealed record NewChangeRequest(long ProjectId, string Title, string Description, string Source, string Target, string Author,
    string HeadSha, IReadOnlyList<string> Warnings, IReadOnlyList<long> ItemIds, long Now);

/// <summary>
/// Change requests, their reviews and merge rules (tables change_requests, change_request_reviews, merge_rules,
/// work_item_change_requests). Every state change is a conditional UPDATE on the expected state, so a lost race
/// returns false instead of overwriting; the caller turns that into a 409. Reviews are insert-only. Thread-safe.
/// </summary>
public sealed class ChangeRequestStore(SqlDatabase db)
{
    private const string Columns =
        "id, project_id, number, title, description, source_branch, target_branch, author, state, head_sha, created_at, updated_at, " +
        "merged_at, merged_by, merge_commit, target_sha, merge_strategy, closed_at, closed_by, auto_merge_by, auto_merge_strategy, auto_merge_error, warnings";

    public Task<ChangeRequestRow> CreateAsync(NewChangeRequest cr) =>
        db.WriteAsync(async (c, tx) =>
        {
            var number = await c.ExecuteScalarAsync<long>(
                "UPDATE projects SET next_cr_number = next_cr_number + 1 WHERE id = @ProjectId RETURNING next_cr_number - 1", new { cr.ProjectId }, tx);
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO change_requests (project_id, number, title, description, source_branch, target_branch, author, state, head_sha, " +
                "created_at, updated_at, warnings) VALUES (@ProjectId, @number, @Title, @Description, @Source, @Target, @Author, 'open', @HeadSha, " +
                "@Now, @Now, @warnings) RETURNING id",
                new { cr.ProjectId, number, cr.Title, cr.Description, cr.Source, cr.Target, cr.Author, cr.HeadSha, cr.Now,
                      warnings = cr.Warnings.Count == 0 ? null : JsonSerializer.Serialize(cr.Warnings) }, tx);
            await LinkItemsAsync(c, tx, id, cr.ItemIds);
            return await c.QuerySingleAsync<ChangeRequestRow>($"SELECT {Columns} FROM change_requests WHERE id = @id", new { id }, tx);
        });

    public async Task<IReadOnlyList<ChangeRequestRow>> ListAsync(long projectId, string? state) =>
        (await db.ReadAsync(c => c.QueryAsync<ChangeRequestRow>(
            // No "@state IS NULL OR ...": PostgreSQL cannot type a parameter that is only ever NULL.
            $"SELECT {Columns} FROM change_requests WHERE project_id = @projectId{(state is null ? "" : " AND state = @state")} ORDER BY number DESC",
            new { projectId, state }))).ToList();

    public Task<ChangeRequestRow?> FindAsync(long projectId, long number) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ChangeRequestRow>(
            $"SELECT {Columns} FROM change_requests WHERE project_id = @projectId AND number = @number", new { projectId, number }));

    /// <summary>The change requests naming a work item, oldest first (the item page).</summary>
    public async Task<IReadOnlyList<ChangeRequestRow>> ForItemAsync(long itemId) =>
        (await db.ReadAsync(c => c.QueryAsync<ChangeRequestRow>(
            $"SELECT {Columns} FROM change_requests WHERE id IN (SELECT change_request_id FROM work_item_change_requests WHERE item_id = @itemId) ORDER BY number",
            new { itemId }))).ToList();

    /// <summary>Open change requests whose source is <paramref name="branch"/> (their head moves with it).</summary>
    public async Task<IReadOnlyList<ChangeRequestRow>> OpenFromAsync(long projectId, string branch) =>
        (await db.ReadAsync(c => c.QueryAsync<ChangeRequestRow>(
            $"SELECT {Columns} FROM change_requests WHERE project_id = @projectId AND source_branch = @branch AND state = 'open'", new { projectId, branch }))).ToList();

    /// <summary>Open change requests that should merge by themselves, oldest first (what the auto-merger looks at).</summary>
    public async Task<IReadOnlyList<ChangeRequestRow>> AutoMergeCandidatesAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<ChangeRequestRow>(
            $"SELECT {Columns} FROM change_requests WHERE state = 'open' AND auto_merge_by IS NOT NULL ORDER BY id"))).ToList();

    public async Task<IReadOnlyList<ReviewRow>> ReviewsAsync(long changeRequestId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReviewRow>(
            "SELECT id, reviewer, verdict, comment, head_sha, at FROM change_request_reviews WHERE change_request_id = @changeRequestId ORDER BY id",
            new { changeRequestId }))).ToList();

    /// <summary>
    /// Adds a review if the change request is still open (<see cref="ApprovalWrite.NotAwaiting"/> otherwise). A reviewer
    /// approves one head commit once: a second approval of the same head is not stored (<see cref="ApprovalWrite.AlreadyGiven"/>),
    /// also when two requests race (the unique index on approvals decides).
    /// </summary>
    public async Task<ApprovalWrite> AddReviewAsync(long changeRequestId, string reviewer, ReviewVerdict verdict, string comment, string headSha, long now)
    {
        try
        {
            return await db.WriteAsync(async (c, tx) =>
            {
                var rows = await c.ExecuteAsync(
                    "INSERT INTO change_request_reviews (change_request_id, reviewer, verdict, comment, head_sha, at) " +
                    "SELECT id, @reviewer, @verdict, @comment, @headSha, @now FROM change_requests WHERE id = @changeRequestId AND state = 'open' " +
                    "AND NOT (@verdict = 'approve' AND EXISTS (SELECT 1 FROM change_request_reviews r WHERE r.change_request_id = @changeRequestId " +
                    "AND r.reviewer = @reviewer AND r.head_sha = @headSha AND r.verdict = 'approve'))",
                    new { changeRequestId, reviewer, verdict = verdict.Name(), comment, headSha, now }, tx);
                if (rows == 1)
                {
                    await c.ExecuteAsync("UPDATE change_requests SET updated_at = @now WHERE id = @changeRequestId", new { changeRequestId, now }, tx);
                    return ApprovalWrite.Added;
                }
                var open = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM change_requests WHERE id = @changeRequestId AND state = 'open'",
                    new { changeRequestId }, tx);
                return open == 1 ? ApprovalWrite.AlreadyGiven : ApprovalWrite.NotAwaiting;
            });
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e)) { return ApprovalWrite.AlreadyGiven; }
    }

    /// <summary>Records the merge; false when the change request was no longer open.</summary>
    /// <param name="contributors">Who wrote or pushed its commits: kept for the deployment's approvals (<see cref="Deployments.DeploymentStore.AuthorsAndMergersAsync"/>).</param>
    public Task<bool> MarkMergedAsync(long id, string by, string mergeCommit, MergeStrategy strategy, string headSha, string targetSha,
        IReadOnlyList<string> contributors, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE change_requests SET state = 'merged', merged_at = @now, merged_by = @by, merge_commit = @mergeCommit, merge_strategy = @strategy, " +
            "head_sha = @headSha, target_sha = @targetSha, updated_at = @now, auto_merge_error = NULL, contributors = @contributors WHERE id = @id AND state = 'open'",
            new { id, by, mergeCommit, strategy = strategy.Name(), headSha, targetSha, now, contributors = JsonSerializer.Serialize(contributors) }, tx) == 1);

    /// <summary>open → closed or closed → open, conditional on the expected state.</summary>
    public Task<bool> SetStateAsync(long id, ChangeRequestState from, ChangeRequestState to, string by, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            to == ChangeRequestState.Closed
                ? "UPDATE change_requests SET state = @to, closed_at = @now, closed_by = @by, auto_merge_by = NULL, auto_merge_strategy = NULL, updated_at = @now WHERE id = @id AND state = @from"
                : "UPDATE change_requests SET state = @to, closed_at = NULL, closed_by = NULL, updated_at = @now WHERE id = @id AND state = @from",
            new { id, from = from.Name(), to = to.Name(), by, now }, tx) == 1);

    /// <summary>Turns auto-merge on (by, strategy) or off (nulls) on an open change request; false when it is not open.</summary>
    public Task<bool> SetAutoMergeAsync(long id, string? by, MergeStrategy? strategy, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE change_requests SET auto_merge_by = @by, auto_merge_strategy = @strategy, auto_merge_error = NULL, updated_at = @now " +
            "WHERE id = @id AND state = 'open'", new { id, by, strategy = strategy?.Name(), now }, tx) == 1);

    /// <summary>Why the last automatic merge attempt did not merge (shown on the page), or null once it would.</summary>
    public Task SetAutoMergeErrorAsync(long id, string? error) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE change_requests SET auto_merge_error = @error WHERE id = @id AND state = 'open'",
            new { id, error }, tx));

    /// <summary>Records the source head seen and links the work items its commits name.</summary>
    public Task UpdateHeadAsync(long id, string headSha, IReadOnlyList<long> itemIds) =>
        db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("UPDATE change_requests SET head_sha = @headSha WHERE id = @id AND state = 'open'", new { id, headSha }, tx);
            await LinkItemsAsync(c, tx, id, itemIds);
        });

    private static async Task LinkItemsAsync(DbConnection c, DbTransaction tx, long id, IReadOnlyList<long> itemIds)
    {
        foreach (var itemId in itemIds)
            await c.ExecuteAsync("INSERT INTO work_item_change_requests (item_id, change_request_id) VALUES (@itemId, @id) ON CONFLICT DO NOTHING",
                new { itemId, id }, tx);
    }

    /// <summary>The work items a change request names: key parts and title.</summary>
    public async Task<IReadOnlyList<ReleaseItemRow>> ItemsAsync(long changeRequestId) =>
        (await db.ReadAsync(c => c.QueryAsync<ReleaseItemRow>(
            "SELECT i.id AS item_id, p.item_key_prefix AS prefix, i.number, i.title, i.kind FROM work_item_change_requests x " +
            "JOIN work_items i ON i.id = x.item_id JOIN projects p ON p.id = i.project_id WHERE x.change_request_id = @changeRequestId ORDER BY i.number",
            new { changeRequestId }))).ToList();

    /// <summary>The merge rules of a target branch (the defaults when none were set).</summary>
    public async Task<MergeRules> RulesAsync(long projectId, string branch)
    {
        var row = await db.ReadAsync(c => c.QuerySingleOrDefaultAsync<RulesRow>(
            "SELECT branch, required_approvals, dismiss_stale_approvals, updated_by, updated_at FROM merge_rules WHERE project_id = @projectId AND branch = @branch",
            new { projectId, branch }));
        return row?.Rules ?? MergeRules.Default;
    }

    public async Task<IReadOnlyList<RulesRow>> ListRulesAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<RulesRow>(
            "SELECT branch, required_approvals, dismiss_stale_approvals, updated_by, updated_at FROM merge_rules WHERE project_id = @projectId ORDER BY branch",
            new { projectId }))).ToList();

    public Task SetRulesAsync(long projectId, string branch, MergeRules rules, string by, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO merge_rules (project_id, branch, required_approvals, dismiss_stale_approvals, updated_at, updated_by) " +
            "VALUES (@projectId, @branch, @required, @dismiss, @now, @by) ON CONFLICT (project_id, branch) DO UPDATE SET " +
            "required_approvals = @required, dismiss_stale_approvals = @dismiss, updated_at = @now, updated_by = @by",
            new { projectId, branch, required = rules.RequiredApprovals, dismiss = rules.DismissStaleApprovals, now, by }, tx));

    /// <summary>Whether Slipway itself pushed <paramref name="commit"/> to a branch of the project (a merge).</summary>
    public Task<bool> IsSlipwayMergeAsync(long projectId, string commit) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM change_requests WHERE project_id = @projectId AND merge_commit = @commit", new { projectId, commit }) > 0);
}
