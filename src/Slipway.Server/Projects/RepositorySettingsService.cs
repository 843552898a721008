using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;
using Slipway.Core.Releases;

namespace Slipway.Server.Projects;

/// <summary>
/// A project's repository settings, for the API and the project's settings page alike (same rules, same audit entries):
/// protected branches, which of them release and which tags are protected release tags (repo.protect), merge rules per
/// target branch (merge-rules.manage), and the credential for an external repository (repo.credential; the password is
/// write-only). Server-side settings, because a pipeline file is whatever the pushed branch says.
/// </summary>
public sealed class RepositorySettingsService(ProjectStore projects, ChangeRequestStore changeRequests, ReleaseSettingsStore releaseSettings,
    GitCredentials credentials, ChangeDetector detector, DatabaseLocks locks, ServerOptions options, TimeProvider clock)
{
    /// <summary>
    /// Held by whoever changes which branches are protected or release: each checks the other's setting (only protected
    /// branches release), so two admins at once, on any node, could otherwise leave a release branch unprotected.
    /// </summary>
    private static string ProtectionLock(ProjectRow project) => $"protection:{project.Id}";

    /// <summary>The default branch and every branch marked protected.</summary>
    public async Task<IReadOnlyList<string>> ProtectedBranchesAsync(string name) =>
        (await releaseSettings.GetAsync(await projects.RequireAsync(name))).ProtectedBranches;

    public async Task ProtectBranchAsync(Actor actor, string name, string branch, CancellationToken ct)
    {
        var project = await projects.RequireAsync(name);
        await RequireBranchNameAsync(branch, options, ct);
        await projects.ProtectBranchAsync(project.Id, branch, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>
    /// Takes a branch's protection away: direct pushes reach it again and its runs get no protected values. Refused for the
    /// default branch (always protected) and for a release branch (<see cref="ProjectProtection.UnprotectRefusal"/>).
    /// </summary>
    public async Task UnprotectBranchAsync(Actor actor, string name, string branch)
    {
        var project = await projects.RequireAsync(name);
        await using var held = await locks.AcquireAsync(ProtectionLock(project), wait: TimeSpan.FromSeconds(30));
        if ((await releaseSettings.GetAsync(project)).UnprotectRefusal(name, branch) is { } refusal) throw new ConflictException(refusal);
        if (!await projects.UnprotectBranchAsync(project.Id, branch))
            throw new KeyNotFoundException($"branch '{branch}' of '{name}' is not marked protected");
        await actor.AuditAsync(Actions.RepoProtect, AuditOutcomes.Succeeded, $"project:{name} branch:{branch}",
            $"branch '{branch}' unprotected: direct pushes reach it again and its runs get no protected variables or secrets");
    }

    /// <summary>
    /// Everything the settings page shows, from one read of the project: the merge rules only for readers of change
    /// requests, the credential's user name only for holders of repo.credential.
    /// </summary>
    public async Task<RepositorySettingsView> ViewAsync(string name, Principal.User user)
    {
        var project = await projects.RequireAsync(name);
        var protection = await releaseSettings.GetAsync(project);
        return new RepositorySettingsView(project.Name, ToDto(project.Name, protection),
            protection.ProtectedBranches.Where(b => protection.UnprotectRefusal(project.Name, b) is null).ToHashSet(StringComparer.Ordinal),
            user.Permissions.CanOnProject(Actions.ChangeRequestRead, name) ? await MergeRulesOfAsync(project) : null,
            user.Permissions.CanOnProject(Actions.RepoCredential, name) ? project.GitUsername : null,
            detector.IsHosted(project),
            user.Permissions.CanOnProject(Actions.RepoCredential, name) ? WebhookSecretMark(project.WebhookSecret) : null);
    }

    /// <summary>
    /// A short mark of the webhook secret a page was shown with (its "replace" form carries it back). Not the secret: 48 bits
    /// of a keyed hash of a 192-bit random value tell nothing about it, but they do tell one secret from the next.
    /// </summary>
    public static string WebhookSecretMark(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("slipway-webhook-mark\n" + secret)))[..12];

    /// <summary>The newest 20 pushes seen on protected branches of an external repository that Slipway did not make.</summary>
    public async Task<IReadOnlyList<DirectPushDto>> DirectPushesAsync(string name) =>
        (await projects.DirectPushesAsync((await projects.RequireAsync(name)).Id))
        .Select(d => new DirectPushDto(d.Branch, d.OldHead, d.NewHead, UnixMs.To(d.DetectedAt))).ToList();

    public async Task<ReleaseBranchesDto> ReleaseBranchesAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        return ToDto(project.Name, await releaseSettings.GetAsync(project));
    }

    /// <summary>Sets the release branches (each must be protected) and the protected tag patterns; either may be left as it is (null).</summary>
    public async Task<ReleaseBranchesDto> SetReleaseBranchesAsync(Actor actor, string name, SetReleaseBranchesRequest? request, CancellationToken ct)
    {
        if (request?.Branches is null && request?.ProtectedTags is null)
            throw new ArgumentException("the body must be {\"branches\": [\"main\", ...], \"protectedTags\": [\"v*\", ...]}; give at least one of them");
        var project = await projects.RequireAsync(name);
        await using var held = await locks.AcquireAsync(ProtectionLock(project), ct, TimeSpan.FromSeconds(30));
        var current = await releaseSettings.GetAsync(project);
        if (request.ExpectedUpdatedAt is { } seen && seen.ToUnixTimeMilliseconds() != (current.UpdatedAt ?? 0))
            throw new ConflictException(current.UpdatedBy is { } by && current.UpdatedAt is { } at
                ? $"the release branches were changed by {by} at {UnixMs.To(at):yyyy-MM-dd HH:mm:ss} UTC after you read them; read them again and retry"
                : "the release branches were changed after you read them; read them again and retry");
        var branches = request.Branches ?? current.ReleaseBranchList;
        var tags = request.ProtectedTags ?? current.ProtectedTags;
        await CheckReleaseBranchesAsync(project.Name, branches, current, ct);
        CheckTags(tags);

        var user = actor.User.Username;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await releaseSettings.SetAsync(project.Id, branches, tags, user, now);
        await actor.AuditAsync(Actions.RepoProtect, AuditOutcomes.Succeeded, $"project:{project.Name}",
            $"release branches: {string.Join(", ", branches)}; protected tags: {(tags.Count == 0 ? "none" : string.Join(", ", tags))}");
        return ToDto(project.Name, current with { ReleaseBranchList = branches, ProtectedTags = tags, IsDefault = false, UpdatedBy = user, UpdatedAt = now });
    }

    /// <summary>The rules of every branch that has its own, and of the default branch (which has the defaults when unset).</summary>
    public async Task<IReadOnlyList<MergeRulesDto>> MergeRulesAsync(string name) => await MergeRulesOfAsync(await projects.RequireAsync(name));

    private async Task<IReadOnlyList<MergeRulesDto>> MergeRulesOfAsync(ProjectRow project)
    {
        var set = (await changeRequests.ListRulesAsync(project.Id)).Select(r => ChangeRequestMapping.Rules(r.Branch, r.Rules, r.UpdatedBy, r.UpdatedAt)).ToList();
        if (set.All(r => r.Branch != project.DefaultBranch)) set.Insert(0, ChangeRequestMapping.Rules(project.DefaultBranch, MergeRules.Default));
        return set;
    }

    /// <summary>Sets a target branch's merge rules; a value not given keeps the branch's current one.</summary>
    public async Task<MergeRulesDto> SetMergeRulesAsync(Actor actor, string name, string branch, SetMergeRulesRequest? request, CancellationToken ct)
    {
        var project = await projects.RequireAsync(name);
        await RequireBranchNameAsync(branch, options, ct);
        var current = await changeRequests.RulesAsync(project.Id, branch);
        var rules = new MergeRules(request?.RequiredApprovals ?? current.RequiredApprovals, request?.DismissStaleApprovals ?? current.DismissStaleApprovals);
        if (rules.Check() is { } error) throw new ArgumentException(error);
        var user = actor.User.Username;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await changeRequests.SetRulesAsync(project.Id, branch, rules, user, now);
        await actor.AuditAsync(Actions.MergeRulesManage, AuditOutcomes.Succeeded, $"project:{name} branch:{branch}",
            $"merge rules of '{branch}': {rules.RequiredApprovals} approvals required, stale approvals {(rules.DismissStaleApprovals ? "dismissed" : "kept")}");
        return ChangeRequestMapping.Rules(branch, rules, user, now);
    }

    public async Task SetCredentialAsync(Actor actor, string name, GitCredentialRequest? request)
    {
        if (string.IsNullOrWhiteSpace(request?.Username) || string.IsNullOrEmpty(request.Password))
            throw new ArgumentException("the body must be {\"username\": \"...\", \"password\": \"...\"}");
        if (request.Username.Length > 200 || request.Password.Length > 4096 || request.Username.Any(char.IsControl) || request.Password.Any(char.IsControl))
            throw new ArgumentException("the username or password is too long or contains a control character");
        var project = await projects.RequireAsync(name);
        if (detector.IsHosted(project)) throw new ArgumentException($"'{name}' is hosted by Slipway and needs no credential");
        await projects.SetGitCredentialAsync(project.Id, request.Username, credentials.Protect(request.Password));
        await actor.AuditAsync(Actions.RepoCredential, AuditOutcomes.Succeeded, $"project:{name}", $"git credential set for user '{request.Username}'");
    }

    /// <summary>
    /// Replaces the push webhook's HMAC secret (it is shown only when made: one lost, or seen by someone who should not
    /// have, is replaced here); answers the new one, the only time it is shown. The old one stops working at once.
    /// </summary>
    /// <param name="replacing">The mark of the secret the form was shown with (<see cref="WebhookSecretMark"/>); the page's
    /// form sends it so that sending the form again (a reload of the page that showed the new secret) does not replace
    /// that one too. Null (the API): replace whatever is set.</param>
    public async Task<WebhookSecretDto> ReplaceWebhookSecretAsync(Actor actor, string name, string? replacing = null)
    {
        var project = await projects.RequireAsync(name);
        if (detector.IsHosted(project)) throw new ArgumentException($"'{name}' is hosted by Slipway: its pushes start runs without a webhook");
        var replacedMeanwhile = new ConflictException($"the webhook secret of '{name}' was already replaced since this form was shown (was "
            + "the page that showed the new one reloaded?): the secret shown then is the one in use. To replace it again, use the settings page.");
        if (replacing is not null && replacing != WebhookSecretMark(project.WebhookSecret)) throw replacedMeanwhile;
        var secret = ProjectService.NewWebhookSecret();
        // Conditional on the secret just read: of two replacements at once, one wins and the other is told, so the secret a
        // page or the API hands out is always the one in use.
        if (!await projects.ReplaceWebhookSecretAsync(project.Id, project.WebhookSecret, secret))
            throw new ConflictException($"the webhook secret of '{name}' was replaced by another request at the same moment: that one is in use; "
                + "replace it again if you need to");
        await actor.AuditAsync(Actions.RepoCredential, AuditOutcomes.Succeeded, $"project:{name}", "push webhook secret replaced (value not recorded)");
        return new WebhookSecretDto(project.Name, secret);
    }

    public async Task DeleteCredentialAsync(Actor actor, string name)
    {
        var project = await projects.RequireAsync(name);
        await projects.SetGitCredentialAsync(project.Id, null, null);
        await actor.AuditAsync(Actions.RepoCredential, AuditOutcomes.Succeeded, $"project:{name}", "git credential removed");
    }

    public static async Task RequireBranchNameAsync(string branch, ServerOptions options, CancellationToken ct)
    {
        if (branch.Length is 0 or > 200 || branch.StartsWith('-')
            || !(await GitCli.RunAsync(null, ["check-ref-format", "refs/heads/" + branch], options.GitTimeout, ct)).Ok)
            throw new ArgumentException($"'{branch}' is not a valid branch name");
    }

    private async Task CheckReleaseBranchesAsync(string project, IReadOnlyList<string> branches, ProjectProtection protection, CancellationToken ct)
    {
        if (branches.Count is 0 or > ReleaseBranches.MaxBranches)
            throw new ArgumentException($"name 1 to {ReleaseBranches.MaxBranches} release branches");
        if (branches.GroupBy(b => b, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"branch '{twice.Key}' is listed twice");
        foreach (var branch in branches)
        {
            await RequireBranchNameAsync(branch ?? "", options, ct);
            if (!protection.IsProtected(branch!))
                throw new ConflictException(
                    $"branch '{branch}' is not protected, and only protected branches can release (their code changes only through merges); " +
                    $"protect it first: slipway project protect {project} {branch} (PUT /api/v1/projects/{project}/protected-branches/{branch}, action repo.protect)");
        }
    }

    private static void CheckTags(IReadOnlyList<string> tags)
    {
        if (tags.Count > ReleaseBranches.MaxTagPatterns)
            throw new ArgumentException($"name at most {ReleaseBranches.MaxTagPatterns} protected tag patterns");
        foreach (var tag in tags)
            if (ProtectedTags.CheckPattern(tag ?? "") is { } error) throw new ArgumentException(error);
        if (tags.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"tag pattern '{twice.Key}' is listed twice");
    }

    private static ReleaseBranchesDto ToDto(string project, ProjectProtection p) =>
        new(project, p.ReleaseBranchList, p.ProtectedTags, p.ProtectedBranches, p.IsDefault, p.UpdatedBy, p.UpdatedAt is { } at ? UnixMs.To(at) : null);
}

/// <summary>A project's repository settings as its settings page shows them (<see cref="RepositorySettingsService.ViewAsync"/>).</summary>
/// <param name="Unprotectable">The protected branches whose protection may be taken away.</param>
/// <param name="MergeRules">Null when the reader may not read change requests.</param>
/// <param name="CredentialUser">The credential's user name; null when none is set or the reader may not manage it.</param>
/// <param name="WebhookSecretMark">The mark the "replace the webhook secret" form carries; null for a reader who may not replace it.</param>
public sealed record RepositorySettingsView(string Project, ReleaseBranchesDto Releases, IReadOnlySet<string> Unprotectable,
    IReadOnlyList<MergeRulesDto>? MergeRules, string? CredentialUser, bool Hosted, string? WebhookSecretMark = null);
