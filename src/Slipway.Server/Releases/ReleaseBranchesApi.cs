using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Releases;

/// <summary>
/// /api/v1/projects/{name}/release-branches: which branches release and which tags are protected release tags. Server-side
/// settings, because the pipeline file is whatever the pushed branch says: read with project.read, changed with
/// repo.protect (the action that protects branches) and audited. Only protected branches can be set to release. Thin
/// adapters over <see cref="RepositorySettingsService"/>.
/// </summary>
public static class ReleaseBranchesApi
{
    public static void MapReleaseBranchesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/release-branches", (string name, RepositorySettingsService service) => service.ReleaseBranchesAsync(name))
            .RequireAction(Actions.ProjectRead);
        api.MapPut("/projects/{name}/release-branches", (string name, SetReleaseBranchesRequest? request, HttpContext context, RepositorySettingsService service,
            CancellationToken ct) => service.SetReleaseBranchesAsync(Actor.Of(context), name, request, ct)).RequireAction(Actions.RepoProtect);
    }
}
