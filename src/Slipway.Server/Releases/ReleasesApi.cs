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
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapReleasesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/releases", ListAsync).RequireAction(Actions.ReleaseRead);
        api.MapPost("/projects/{name}/releases", CreateAsync).RequireAction(Actions.ReleaseCreate);
        api.MapGet("/projects/{name}/releases/{version}", ShowAsync).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/releases/{version}/notes", NotesAsync).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/releases/{version}/artifacts/{**path}", ArtifactAsync).RequireAction(Actions.ReleaseRead);
    }

    /// <summary>The project's releases, newest first (the API and the web UI's release list).</summary>
    public static async Task<IReadOnlyList<ReleaseSummaryDto>> ListAsync(string name, ProjectStore projects, ReleaseStore releases)
    {
        var project = await projects.RequireAsync(name);
        return (await releases.ListAsync(project.Id)).Select(r => Summary(r, project.Name)).ToList();
    }

    public static async Task<ReleaseDto> ShowAsync(string name, string version, ProjectStore projects, ReleaseStore releases)
    {
        var project = await projects.RequireAsync(name);
        var release = await Find(releases, project, version);
        return await ToDtoAsync(release, project.Name, releases);
    }

    private static async Task<IResult> NotesAsync(string name, string version, ProjectStore projects, ReleaseStore releases)
    {
        var project = await projects.RequireAsync(name);
        var release = await Find(releases, project, version);
        return Results.Text(release.Notes, "text/markdown; charset=utf-8");
    }

    private static async Task<IResult> CreateAsync(string name, CreateReleaseRequest? request, HttpContext context,
        ProjectStore projects, ReleaseService service, RunStore runs, ReleaseStore releases)
    {
        var runId = request?.RunId ?? throw new ArgumentException("the body must be {\"runId\": 123}; 'runId' is missing");
        var release = await CreateByHandAsync(name, runId, context, projects, service, runs);
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/releases/{Uri.EscapeDataString(release.Version)}",
            await ToDtoAsync(release, name, releases));
    }

    /// <summary>Releases a run of the project by hand, as the signed-in user, and audits it (the API and the web UI's forms).</summary>
    public static async Task<ReleaseRow> CreateByHandAsync(string name, long runId, HttpContext context,
        ProjectStore projects, ReleaseService service, RunStore runs)
    {
        var project = await projects.RequireAsync(name);
        var run = await runs.GetAsync(runId);
        if (run is null || run.Run.ProjectId != project.Id) throw new KeyNotFoundException($"project '{name}' has no run {runId}");
        var user = context.RequireUser().Username;
        var release = await service.CreateAsync(runId, user);
        await context.AuditAsync(Actions.ReleaseCreate, AuditOutcomes.Succeeded, $"project:{name} release:{release.Version}",
            $"release {release.Version} created by hand from run {release.RunNumber} on {release.Branch} at {release.CommitSha[..12]} ({release.Items} work items, {release.Artifacts} artifacts)");
        return release;
    }

    private static async Task<IResult> ArtifactAsync(string name, string version, string path, HttpContext context,
        ProjectStore projects, ReleaseStore releases, ArtifactFiles files)
    {
        var project = await projects.RequireAsync(name);
        var release = await Find(releases, project, version);
        var artifact = (await releases.ArtifactsAsync(release.Id)).FirstOrDefault(a => a.Path == path)
                       ?? throw new KeyNotFoundException($"release {version} has no artifact '{path}'");
        var file = files.PathOf(artifact.Sha256);
        var actual = await files.DigestOfStoredAsync(artifact.Sha256, context.RequestAborted)
                     ?? throw await MismatchAsync(context, name, version, path, $"the file of artifact '{path}' of release {version} is missing from the store");
        if (actual != artifact.Sha256)
            throw await MismatchAsync(context, name, version, path,
                $"artifact '{path}' of release {version} does not match its recorded digest (recorded sha256 {artifact.Sha256}, file has {actual}); it was changed after the release and is not served");
        // Served from the checked bytes' file; a change between the check and the read is what the next read catches.
        return Results.File(File.OpenRead(file), "application/octet-stream", Path.GetFileName(path));
    }

    private static async Task<ConflictException> MismatchAsync(HttpContext context, string project, string version, string path, string message)
    {
        await context.AuditAsync(Actions.ReleaseRead, AuditOutcomes.Failed, $"project:{project} release:{version} artifact:{path}", message);
        return new ConflictException(message);
    }

    private static async Task<ReleaseRow> Find(ReleaseStore releases, ProjectRow project, string version) =>
        (VersionTemplate.IsValidVersion(version) ? await releases.FindAsync(project.Id, version) : null)
        ?? throw new KeyNotFoundException($"project '{project.Name}' has no release {version}");

    private static ReleaseSummaryDto Summary(ReleaseRow r, string project) =>
        new(project, r.Version, r.RunId, (int)r.RunNumber, r.CommitSha, r.Branch, UnixMs.To(r.CreatedAt), r.CreatedBy, (int)r.Items, (int)r.Artifacts);

    private static async Task<ReleaseDto> ToDtoAsync(ReleaseRow r, string project, ReleaseStore releases) =>
        new(project, r.Version, r.RunId, (int)r.RunNumber, r.CommitSha, r.Branch, UnixMs.To(r.CreatedAt), r.CreatedBy,
            r.TestSummary is null ? null : JsonSerializer.Deserialize<TestSummaryViewDto>(r.TestSummary, Json),
            (await releases.ArtifactsAsync(r.Id)).Select(a => new ReleaseArtifactDto(a.Path, a.Sha256, a.Size)).ToList(),
            (await releases.ItemsAsync(r.Id)).Select(i => new ReleaseItemDto(i.Key, i.Title, i.Kind)).ToList(),
            r.Notes, r.PipelineSnapshot);
}
