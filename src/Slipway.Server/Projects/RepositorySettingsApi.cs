using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;

namespace Slipway.Server.Projects;

/// <summary>
/// A project's repository settings beside protected branches: merge rules per target branch
/// (/projects/{name}/merge-rules[/{branch}]), the credential for an external repository (/projects/{name}/git-credential;
/// the password is write-only), and the direct pushes detected on its protected branches (/projects/{name}/direct-pushes).
/// </summary>
public static class RepositorySettingsApi
{
    public static void MapRepositorySettingsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/merge-rules", ListRulesAsync).RequireAction(Actions.ChangeRequestRead);
        api.MapPut("/projects/{name}/merge-rules/{**branch}", SetRulesAsync).RequireAction(Actions.MergeRulesManage);
        api.MapPut("/projects/{name}/git-credential", SetCredentialAsync).RequireAction(Actions.RepoCredential);
        api.MapDelete("/projects/{name}/git-credential", DeleteCredentialAsync).RequireAction(Actions.RepoCredential);
        api.MapGet("/projects/{name}/direct-pushes", DirectPushesAsync).RequireAction(Actions.ProjectRead);
    }

    /// <summary>The rules of every branch that has its own, and of the default branch (which has the defaults when unset).</summary>
    public static async Task<IReadOnlyList<MergeRulesDto>> ListRulesAsync(string name, ProjectStore projects, ChangeRequestStore store)
    {
        var project = await projects.RequireAsync(name);
        var set = (await store.ListRulesAsync(project.Id)).Select(r => ChangeRequestMapping.Rules(r.Branch, r.Rules, r.UpdatedBy, r.UpdatedAt)).ToList();
        if (set.All(r => r.Branch != project.DefaultBranch)) set.Insert(0, ChangeRequestMapping.Rules(project.DefaultBranch, MergeRules.Default));
        return set;
    }

    private static async Task<MergeRulesDto> SetRulesAsync(string name, string branch, SetMergeRulesRequest? request, HttpContext context,
        ProjectStore projects, ChangeRequestStore store, ServerOptions options, TimeProvider clock, CancellationToken ct)
    {
        var project = await projects.RequireAsync(name);
        await RequireBranchNameAsync(branch, options, ct);
        var current = await store.RulesAsync(project.Id, branch);
        var rules = new MergeRules(request?.RequiredApprovals ?? current.RequiredApprovals, request?.DismissStaleApprovals ?? current.DismissStaleApprovals);
        if (rules.Check() is { } error) throw new ArgumentException(error);
        var user = context.RequireUser().Username;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await store.SetRulesAsync(project.Id, branch, rules, user, now);
        await context.AuditAsync(Actions.MergeRulesManage, AuditOutcomes.Succeeded, $"project:{name} branch:{branch}",
            $"merge rules of '{branch}': {rules.RequiredApprovals} approvals required, stale approvals {(rules.DismissStaleApprovals ? "dismissed" : "kept")}");
        return ChangeRequestMapping.Rules(branch, rules, user, now);
    }

    private static async Task<IResult> SetCredentialAsync(string name, GitCredentialRequest? request, HttpContext context, ProjectStore projects,
        GitCredentials credentials, ChangeDetector detector)
    {
        if (string.IsNullOrWhiteSpace(request?.Username) || string.IsNullOrEmpty(request.Password))
            throw new ArgumentException("the body must be {\"username\": \"...\", \"password\": \"...\"}");
        if (request.Username.Length > 200 || request.Password.Length > 4096 || request.Username.Any(char.IsControl) || request.Password.Any(char.IsControl))
            throw new ArgumentException("the username or password is too long or contains a control character");
        var project = await projects.RequireAsync(name);
        if (detector.IsHosted(project)) throw new ArgumentException($"'{name}' is hosted by Slipway and needs no credential");
        await projects.SetGitCredentialAsync(project.Id, request.Username, credentials.Protect(request.Password));
        await context.AuditAsync(Actions.RepoCredential, AuditOutcomes.Succeeded, $"project:{name}", $"git credential set for user '{request.Username}'");
        return Results.Ok(new { project = name, username = request.Username });
    }

    private static async Task<IResult> DeleteCredentialAsync(string name, HttpContext context, ProjectStore projects)
    {
        var project = await projects.RequireAsync(name);
        await projects.SetGitCredentialAsync(project.Id, null, null);
        await context.AuditAsync(Actions.RepoCredential, AuditOutcomes.Succeeded, $"project:{name}", "git credential removed");
        return Results.NoContent();
    }

    public static async Task<IReadOnlyList<DirectPushDto>> DirectPushesAsync(string name, ProjectStore projects)
    {
        var project = await projects.RequireAsync(name);
        return (await projects.DirectPushesAsync(project.Id)).Select(d => new DirectPushDto(d.Branch, d.OldHead, d.NewHead, UnixMs.To(d.DetectedAt))).ToList();
    }

    public static async Task RequireBranchNameAsync(string branch, ServerOptions options, CancellationToken ct)
    {
        if (branch.Length is 0 or > 200 || branch.StartsWith('-')
            || !(await GitCli.RunAsync(null, ["check-ref-format", "refs/heads/" + branch], options.GitTimeout, ct)).Ok)
            throw new ArgumentException($"'{branch}' is not a valid branch name");
    }
}
