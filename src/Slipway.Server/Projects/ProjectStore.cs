using Dapper;

namespace Slipway.Server.Projects;

/// <summary>Projects and the branch heads last seen in their mirrors.</summary>
public sealed class ProjectStore(SqlDatabase db)
{
    private const string Columns = "id, name, repo_url, default_branch, webhook_secret, created_at, last_fetch_at, last_fetch_error, item_key_prefix, git_username, git_password_protected, item_key_pattern";

    /// <summary>The project named <paramref name="name"/>; a missing one is a <see cref="KeyNotFoundException"/> (404) naming it.</summary>
    public async Task<ProjectRow> RequireAsync(string name) =>
        await FindAsync(name) ?? throw new KeyNotFoundException(NoSuchProject(name));

    /// <summary>The answer for a project that does not exist, and for one the asker may not read (the same words).</summary>
    public static string NoSuchProject(string name) => $"no project named '{name}'";

    public Task<ProjectRow?> FindAsync(string name) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ProjectRow>($"SELECT {Columns} FROM projects WHERE name = @name", new { name }));

    public Task<ProjectRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<ProjectRow>($"SELECT {Columns} FROM projects WHERE id = @id", new { id }));

    public async Task<IReadOnlyList<ProjectRow>> ListAsync() =>
        (await db.ReadAsync(c => c.QueryAsync<ProjectRow>($"SELECT {Columns} FROM projects ORDER BY name"))).ToList();

    /// <summary>Creates the project with its initial branch heads. Returns null if the name is taken.</summary>
    public Task<ProjectRow?> CreateAsync(string name, string repoUrl, string defaultBranch, string webhookSecret,
        IReadOnlyDictionary<string, string> heads, long now) =>
        db.WriteAsync<ProjectRow?>(async (c, tx) =>
        {
            var exists = await c.ExecuteScalarAsync<long?>("SELECT id FROM projects WHERE name = @name", new { name }, tx);
            if (exists is not null) return null;
            var id = await c.ExecuteScalarAsync<long>(
                "INSERT INTO projects (name, repo_url, default_branch, webhook_secret, created_at, last_fetch_at) " +
                "VALUES (@name, @repoUrl, @defaultBranch, @webhookSecret, @now, @now) RETURNING id",
                new { name, repoUrl, defaultBranch, webhookSecret, now }, tx);
            foreach (var (branch, head) in heads)
                await c.ExecuteAsync("INSERT INTO branches (project_id, name, head, updated_at) VALUES (@id, @branch, @head, @now)",
                    new { id, branch, head, now }, tx);
            return new ProjectRow { Id = id, Name = name, RepoUrl = repoUrl, DefaultBranch = defaultBranch, WebhookSecret = webhookSecret, CreatedAt = now };
        });

    public async Task<IReadOnlyList<BranchRow>> BranchesAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<BranchRow>(
            "SELECT project_id, name, head, updated_at FROM branches WHERE project_id = @projectId ORDER BY name", new { projectId }))).ToList();

    /// <summary>The head of one branch as recorded at the last fetch; null when there is no such branch.</summary>
    public Task<string?> HeadAsync(long projectId, string branch) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<string?>(
            "SELECT head FROM branches WHERE project_id = @projectId AND name = @branch", new { projectId, branch }));

    /// <summary>
    /// Records the heads just fetched and returns the branches whose head is new or changed. Compare and
    /// update happen in one transaction so two detectors (poll and webhook, or two nodes) never both
    /// report the same change.
    /// </summary>
    public async Task<IReadOnlyList<(string Branch, string Head)>> UpdateHeadsAsync(long projectId, IReadOnlyDictionary<string, string> heads, long now) =>
        (await MoveHeadsAsync(projectId, heads, now)).Select(m => (m.Branch, m.Head)).ToList();

    /// <summary>As <see cref="UpdateHeadsAsync"/>, with each moved branch's previous head (null for a new branch).</summary>
    public Task<IReadOnlyList<(string Branch, string? Old, string Head)>> MoveHeadsAsync(long projectId, IReadOnlyDictionary<string, string> heads, long now) =>
        db.WriteAsync<IReadOnlyList<(string, string?, string)>>(async (c, tx) =>
        {
            var known = (await c.QueryAsync<BranchRow>("SELECT name, head FROM branches WHERE project_id = @projectId", new { projectId }, tx))
                .ToDictionary(b => b.Name, b => b.Head, StringComparer.Ordinal);
            var changed = new List<(string, string?, string)>();
            foreach (var (branch, head) in heads)
            {
                if (known.TryGetValue(branch, out var old) && old == head) continue;
                // Conditional writes: if another node recorded this head since we read, we change no row and
                // do not report it, so one push starts one run.
                var rows = old is null
                    ? await c.ExecuteAsync("INSERT INTO branches (project_id, name, head, updated_at) VALUES (@projectId, @branch, @head, @now) " +
                                           "ON CONFLICT (project_id, name) DO NOTHING", new { projectId, branch, head, now }, tx)
                    : await c.ExecuteAsync("UPDATE branches SET head = @head, updated_at = @now WHERE project_id = @projectId AND name = @branch AND head = @old",
                        new { projectId, branch, head, now, old }, tx);
                if (rows == 1) changed.Add((branch, old, head));
            }
            foreach (var gone in known.Keys.Where(k => !heads.ContainsKey(k)))
                await c.ExecuteAsync("DELETE FROM branches WHERE project_id = @projectId AND name = @gone", new { projectId, gone }, tx);
            await c.ExecuteAsync("UPDATE projects SET last_fetch_at = @now, last_fetch_error = NULL WHERE id = @projectId", new { projectId, now }, tx);
            return changed;
        });

    public Task RecordFetchErrorAsync(long projectId, string error, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE projects SET last_fetch_at = @now, last_fetch_error = @error WHERE id = @projectId", new { projectId, error, now }, tx));

    /// <summary>When an admin marked <paramref name="branch"/> protected (unix ms), or null when it is not marked (the default branch never is).</summary>
    public Task<long?> ProtectedSinceAsync(long projectId, string branch) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long?>(
            "SELECT created_at FROM protected_branches WHERE project_id = @projectId AND branch = @branch", new { projectId, branch }));

    /// <summary>Branches an admin marked protected (the default branch is protected besides these).</summary>
    public async Task<IReadOnlyList<string>> ProtectedBranchesAsync(long projectId) =>
        (await db.ReadAsync(c => c.QueryAsync<string>(
            "SELECT branch FROM protected_branches WHERE project_id = @projectId ORDER BY branch", new { projectId }))).ToList();

    public Task ProtectBranchAsync(long projectId, string branch, string by, long now) =>
        db.WriteAsync(async (c, tx) =>
        {
            var exists = await c.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM protected_branches WHERE project_id = @projectId AND branch = @branch", new { projectId, branch }, tx);
            if (exists == 0)
                await c.ExecuteAsync("INSERT INTO protected_branches (project_id, branch, created_at, created_by) VALUES (@projectId, @branch, @now, @by)",
                    new { projectId, branch, now, by }, tx);
        });

    /// <summary>False when the branch was not marked protected.</summary>
    public Task<bool> UnprotectBranchAsync(long projectId, string branch) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "DELETE FROM protected_branches WHERE project_id = @projectId AND branch = @branch", new { projectId, branch }, tx) == 1);

    /// <summary>Notes a push to a protected branch of an external repository that Slipway did not make.</summary>
    public Task RecordDirectPushAsync(long projectId, string branch, string? oldHead, string newHead, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO direct_pushes (project_id, branch, old_head, new_head, detected_at) VALUES (@projectId, @branch, @oldHead, @newHead, @now)",
            new { projectId, branch, oldHead, newHead, now }, tx));

    public async Task<IReadOnlyList<DirectPushRow>> DirectPushesAsync(long projectId, int limit = 20) =>
        (await db.ReadAsync(c => c.QueryAsync<DirectPushRow>(
            "SELECT branch, old_head, new_head, detected_at FROM direct_pushes WHERE project_id = @projectId ORDER BY id DESC LIMIT @limit",
            new { projectId, limit }))).ToList();

    /// <summary>
    /// Replaces a project's stored address and credential at once (start-up repair of an address that held a credential).
    /// <paramref name="username"/> null with a secret: the secret is a token given as the user name.
    /// </summary>
    public Task ReplaceRepoUrlAsync(long projectId, string repoUrl, string? username, string passwordProtected) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE projects SET repo_url = @repoUrl, git_username = @username, git_password_protected = @passwordProtected, last_fetch_error = NULL WHERE id = @projectId",
            new { projectId, repoUrl, username, passwordProtected }, tx));

    /// <summary>Replaces the push webhook's HMAC secret if it still is <paramref name="old"/>; false when someone replaced it first.</summary>
    public async Task<bool> ReplaceWebhookSecretAsync(long projectId, string old, string secret) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE projects SET webhook_secret = @secret WHERE id = @projectId AND webhook_secret = @old",
            new { projectId, old, secret }, tx)) == 1;

    /// <summary>Stores (or, with nulls, removes) the credential for an external repository; the password arrives encrypted.</summary>
    public Task SetGitCredentialAsync(long projectId, string? username, string? passwordProtected) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE projects SET git_username = @username, git_password_protected = @passwordProtected WHERE id = @projectId",
            new { projectId, username, passwordProtected }, tx));
}

public sealed class DirectPushRow
{
    public string Branch { get; set; } = "";
    public string? OldHead { get; set; }
    public string NewHead { get; set; } = "";
    public long DetectedAt { get; set; }
}
