using System.Text.Json;
using Dapper;
using Slipway.Core.Releases;

namespace Slipway.Server.Releases;

/// <summary>
/// What is protected in a project, read together: its protected branches (the default branch and those an admin
/// marked), the branches that release and the protected release tag patterns (server-side settings; the defaults
/// when <see cref="IsDefault"/>). Every rule that keeps branch code away from releases and protected values asks this.
/// </summary>
public sealed record ProjectProtection(string DefaultBranch, IReadOnlyList<string> MarkedBranches, IReadOnlyList<string> ReleaseBranchList,
    IReadOnlyList<string> ProtectedTags, bool IsDefault, string? UpdatedBy = null, long? UpdatedAt = null)
{
    public bool IsProtected(string branch) => ReleaseBranches.IsProtected(branch, DefaultBranch, MarkedBranches);

    /// <summary>Whether a run on <paramref name="branch"/> releases: a configured release branch that is protected.</summary>
    public bool Releases(string branch) => ReleaseBranches.Releases(branch, IsProtected(branch), ReleaseBranchList);

    /// <summary>Every protected branch, the default branch first.</summary>
    public IReadOnlyList<string> ProtectedBranches => [DefaultBranch, .. MarkedBranches.Where(b => b != DefaultBranch)];

    /// <summary>
    /// Why <paramref name="branch"/>'s protection cannot be taken away, or null when it can: the default branch is always
    /// protected, and only protected branches release. (The settings page offers Unprotect where this is null.)
    /// </summary>
    public string? UnprotectRefusal(string project, string branch) =>
        branch == DefaultBranch ? $"'{branch}' is the default branch of '{project}' and is always protected"
        : ReleaseBranchList.Contains(branch, StringComparer.Ordinal)
            ? $"'{branch}' is a release branch of '{project}', and only protected branches release; take it out of the release branches first"
            : null;
}

/// <summary>A project's release settings (table release_settings; no row: the defaults). Thread-safe.</summary>
public sealed class ReleaseSettingsStore(SqlDatabase db)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<ProjectProtection> GetAsync(ProjectRow project) => db.ReadAsync(async c =>
    {
        var marked = (await c.QueryAsync<string>(
            "SELECT branch FROM protected_branches WHERE project_id = @Id ORDER BY branch", new { project.Id })).ToList();
        var row = await c.QuerySingleOrDefaultAsync<ReleaseSettingsRow>(
            "SELECT branches, protected_tags, updated_at, updated_by FROM release_settings WHERE project_id = @Id", new { project.Id });
        return row is null
            ? new ProjectProtection(project.DefaultBranch, marked, [project.DefaultBranch], ReleaseBranches.DefaultProtectedTags, IsDefault: true)
            : new ProjectProtection(project.DefaultBranch, marked, Read(row.Branches), Read(row.ProtectedTags), IsDefault: false, row.UpdatedBy, row.UpdatedAt);
    });

    /// <summary>Stores both lists (the caller checked them: names, protection, patterns).</summary>
    public Task SetAsync(long projectId, IReadOnlyList<string> branches, IReadOnlyList<string> protectedTags, string by, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO release_settings (project_id, branches, protected_tags, updated_at, updated_by) VALUES (@projectId, @branches, @tags, @now, @by) " +
            "ON CONFLICT (project_id) DO UPDATE SET branches = excluded.branches, protected_tags = excluded.protected_tags, " +
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            new { projectId, branches = JsonSerializer.Serialize(branches, Json), tags = JsonSerializer.Serialize(protectedTags, Json), now, by }, tx));

    private static IReadOnlyList<string> Read(string json) => JsonSerializer.Deserialize<List<string>>(json, Json) ?? [];
}

public sealed class ReleaseSettingsRow
{
    public string Branches { get; set; } = "[]";
    public string ProtectedTags { get; set; } = "[]";
    public long UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}
