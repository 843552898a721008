using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Projects;

/// <summary>
/// A project's repository settings beside protected branches: merge rules per target branch
/// (/projects/{name}/merge-rules[/{branch}]), the credential for an external repository (/projects/{name}/git-credential;
/// the password is write-only), and the direct pushes detected on its protected branches (/projects/{name}/direct-pushes).
/// Thin adapters over <see cref="RepositorySettingsService"/>.
/// </summary>
public static class RepositorySettingsApi
{
    public static void MapRepositorySettingsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/merge-rules", (string name, RepositorySettingsService service) => service.MergeRulesAsync(name))
            .RequireAction(Actions.ChangeRequestRead);
        api.MapPut("/projects/{name}/merge-rules/{**branch}", (string name, string branch, SetMergeRulesRequest? request, HttpContext context,
            RepositorySettingsService service, CancellationToken ct) => service.SetMergeRulesAsync(Actor.Of(context), name, branch, request, ct))
            .RequireAction(Actions.MergeRulesManage);
        api.MapPut("/projects/{name}/git-credential", async (string name, GitCredentialRequest? request, HttpContext context, RepositorySettingsService service) =>
        {
            await service.SetCredentialAsync(Actor.Of(context), name, request);
            return Results.Ok(new { project = name, username = request!.Username });
        }).RequireAction(Actions.RepoCredential);
        api.MapDelete("/projects/{name}/git-credential", async (string name, HttpContext context, RepositorySettingsService service) =>
        {
            await service.DeleteCredentialAsync(Actor.Of(context), name);
            return Results.NoContent();
        }).RequireAction(Actions.RepoCredential);
        api.MapPost("/projects/{name}/webhook-secret", (string name, HttpContext context, RepositorySettingsService service) =>
            service.ReplaceWebhookSecretAsync(Actor.Of(context), name)).RequireAction(Actions.RepoCredential);
        api.MapGet("/projects/{name}/direct-pushes", (string name, RepositorySettingsService service) => service.DirectPushesAsync(name))
            .RequireAction(Actions.ProjectRead);
    }
}
