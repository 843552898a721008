using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Releases;

namespace Slipway.Server.Releases;

/// <summary>
/// Releases of a project: /api/v1/projects/{name}/releases[/{version}[/notes|/artifacts/{job}/{path}]]. Immutable:
/// there is no endpoint to change or delete one. An artifact is only served after its file's SHA-256 matched the
/// digest recorded in the release; a mismatch is refused (409) and audited.
/// </summary>
public static class ReleasesApi
{
    public static void MapReleasesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/releases", (string name, ReleaseViews views) => views.ListAsync(name)).RequireAction(Actions.ReleaseRead);
        api.MapPost("/projects/{name}/releases", CreateAsync).RequireAction(Actions.ReleaseCreate);
        api.MapGet("/projects/{name}/releases/{version}", (string name, string version, ReleaseViews views) => views.ShowAsync(name, version)).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/releases/{version}/notes", NotesAsync).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/releases/{version}/artifacts/{**path}", ArtifactAsync).RequireAction(Actions.ReleaseRead);
    }

    private static async Task<IResult> NotesAsync(string name, string version, ProjectStore projects, ReleaseViews views)
    {
        var project = await projects.RequireAsync(name);
        var release = await views.FindAsync(project, version);
        return Results.Text(release.Notes, "text/markdown; charset=utf-8");
    }

    private static async Task<IResult> CreateAsync(string name, CreateReleaseRequest? request, HttpContext context, ReleaseService service,
        ReleaseViews views)
    {
        var runId = request?.RunId ?? throw new ArgumentException("the body must be {\"runId\": 123}; 'runId' is missing");
        var release = await service.CreateByHandAsync(Actor.Of(context), name, runId);
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/releases/{Uri.EscapeDataString(release.Version)}",
            await views.ToDtoAsync(release, name));
    }

    private static async Task<IResult> ArtifactAsync(string name, string version, string path, HttpContext context,
        ProjectStore projects, ReleaseStore releases, ReleaseViews views, ArtifactFiles files)
    {
        var project = await projects.RequireAsync(name);
        var release = await views.FindAsync(project, version);
        var artifact = (await releases.ArtifactsAsync(release.Id)).FirstOrDefault(a => a.Path == path)
                       ?? throw new KeyNotFoundException($"release {version} has no artifact '{path}'");
        var actual = await files.DigestOfStoredAsync(artifact.Sha256, context.RequestAborted)
                     ?? throw await MismatchAsync(context, name, version, path, $"the file of artifact '{path}' of release {version} is missing from the store");
        if (actual != artifact.Sha256)
            throw await MismatchAsync(context, name, version, path,
                $"artifact '{path}' of release {version} does not match its recorded digest (recorded sha256 {artifact.Sha256}, file has {actual}); it was changed after the release and is not served");
        // Checked again as it streams: a change between the check and the read cuts the download off.
        var stream = await files.OpenReadAsync(artifact.Sha256, context.RequestAborted)
                     ?? throw await MismatchAsync(context, name, version, path, $"the file of artifact '{path}' of release {version} is missing from the store");
        return Results.File(stream, "application/octet-stream", Path.GetFileName(path));
    }

    private static async Task<ConflictException> MismatchAsync(HttpContext context, string project, string version, string path, string message)
    {
        await context.AuditAsync(Actions.ReleaseRead, AuditOutcomes.Failed, $"project:{project} release:{version} artifact:{path}", message);
        return new ConflictException(message);
    }


}
