using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Projects;

/// <summary>
/// The project's settings page and its forms, over <see cref="RepositorySettingsService"/> as the API is (the work item key
/// over <see cref="WorkItemService"/>, as PUT /api/v1/projects/{name}/item-key).
/// </summary>
public static class ProjectSettingsPages
{
    public static void MapProjectSettingsPages(this IEndpointRouteBuilder app)
    {
        const string Settings = "/projects/{name}/settings";
        app.MapGet(Settings, async (string name, HttpContext context, RepositorySettingsService service, WorkItemService items) =>
            Page<ProjectSettingsPage>(context, new { View = await service.ViewAsync(name, context.RequireUser()), ItemKey = await items.KeyAsync(name) }))
            .RequirePageAction(Actions.ProjectRead);
        app.MapPost(Settings + "/item-key", (string name, HttpContext context, WorkItemService items) => Act(context, PathOf(name), async form =>
        {
            // Only a field the user changed is sent (the hidden fields are what the page showed): a form opened before
            // someone else changed the pattern does not put the old one back. An empty pattern is the default.
            var prefix = Optional(form, "prefix")?.ToUpperInvariant() is { } typed && typed != Field(form, "shownPrefix") ? typed : null; // shown upper-case as typed
            var pattern = Field(form, "pattern") is { } text && text != (Field(form, "shownPattern") ?? "") ? text.Trim() : null;
            if (prefix is null && pattern is null) throw new ArgumentException("nothing to change: type a new key prefix or key pattern");
            var key = await items.SetKeyAsync(Actor.Of(context), name, new SetItemKeyRequest(prefix, pattern));
            var keyed = key.Prefix is { } set ? $"Work items of {name} are keyed {set}-N" : $"{name} has no work item key prefix yet";
            return $"{keyed}; keys are found with {(key.DefaultPattern ? "the default pattern" : $"the pattern {key.Pattern}")}.";
        })).RequirePageAction(Actions.ItemWrite);
        app.MapPost(Settings + "/protected-branches", (string name, HttpContext context, RepositorySettingsService service, CancellationToken ct) =>
            Act(context, PathOf(name), async form =>
        {
            var branch = Field(form, "branch")?.Trim() ?? "";
            await service.ProtectBranchAsync(Actor.Of(context), name, branch, ct);
            return $"Branch {branch} is protected: it changes only through merges.";
        })).RequirePageAction(Actions.RepoProtect);
        app.MapPost(Settings + "/protected-branches/unprotect", (string name, HttpContext context, RepositorySettingsService service) =>
            Act(context, PathOf(name), async form =>
        {
            var branch = Field(form, "branch")?.Trim() ?? "";
            await service.UnprotectBranchAsync(Actor.Of(context), name, branch);
            return $"Branch {branch} is no longer protected.";
        })).RequirePageAction(Actions.RepoProtect);
        app.MapPost(Settings + "/release-branches", (string name, HttpContext context, RepositorySettingsService service, CancellationToken ct) =>
            Act(context, PathOf(name), async form =>
        {
            var set = await service.SetReleaseBranchesAsync(Actor.Of(context), name,
                new SetReleaseBranchesRequest(Words(form, "branches"), Words(form, "protectedTags"), SeenAt(form)), ct);
            return $"Release branches: {string.Join(", ", set.Branches)}; protected tags: {(set.ProtectedTags.Count == 0 ? "none" : string.Join(", ", set.ProtectedTags))}.";
        })).RequirePageAction(Actions.RepoProtect);
        app.MapPost(Settings + "/merge-rules", (string name, HttpContext context, RepositorySettingsService service, CancellationToken ct) =>
            Act(context, PathOf(name), async form =>
        {
            var branch = Field(form, "branch")?.Trim() ?? "";
            // A field left empty keeps the branch's current value (a form opened on stale values never weakens a rule by itself).
            var dismiss = Choice(form, "dismissStaleApprovals", "earlier approvals");
            var rules = await service.SetMergeRulesAsync(Actor.Of(context), name, branch, new SetMergeRulesRequest(
                Number(Optional(form, "requiredApprovals"), "approvals required"), dismiss), ct);
            return $"Merge rules of {branch}: {rules.RequiredApprovals} approvals required, stale approvals {(rules.DismissStaleApprovals ? "dismissed" : "kept")}.";
        })).RequirePageAction(Actions.MergeRulesManage);
        app.MapPost(Settings + "/git-credential", (string name, HttpContext context, RepositorySettingsService service) => Act(context, PathOf(name), async form =>
        {
            var username = Field(form, "username")?.Trim();
            await service.SetCredentialAsync(Actor.Of(context), name, new GitCredentialRequest(username, Field(form, "password")));
            return $"Credential of {username} saved; the next fetch uses it.";
        })).RequirePageAction(Actions.RepoCredential);
        // Not post/redirect/get on success: the answer carries the new secret, shown once, which must never be in an address.
        app.MapPost(Settings + "/webhook-secret", (string name, HttpContext context, RepositorySettingsService service) =>
            AnswerOnce(context, PathOf(name), async form =>
        {
            // The form names the secret it replaces: the browser sending it again on a reload of the answer is refused.
            var replaced = await service.ReplaceWebhookSecretAsync(Actor.Of(context), name, Field(form, "replacing") ?? "");
            return Page<WebhookSecretPage>(context, new { Replaced = replaced, Server = ServerAddress(context) });
        })).RequirePageAction(Actions.RepoCredential);
        app.MapPost(Settings + "/git-credential/remove", (string name, HttpContext context, RepositorySettingsService service) => Act(context, PathOf(name), async () =>
        {
            await service.DeleteCredentialAsync(Actor.Of(context), name);
            return "Credential removed.";
        })).RequirePageAction(Actions.RepoCredential);
    }

    private static string PathOf(string project) => $"/projects/{Uri.EscapeDataString(project)}/settings";
}
