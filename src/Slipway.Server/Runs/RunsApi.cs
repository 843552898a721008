using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Runs;

/// <summary>/api/v1/runs/{id}: show, cancel, retry, and artifact downloads.</summary>
public static class RunsApi
{
    public static void MapRunsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/runs/{id:long}", RunAsync).RequireAction(Actions.RunRead);
        api.MapPost("/runs/{id:long}/cancel", CancelAsync).RequireAction(Actions.RunCancel);
        api.MapPost("/runs/{id:long}/retry", RetryAsync).RequireAction(Actions.RunRetry);
        api.MapGet("/runs/{id:long}/artifacts/{job}/{**path}", DownloadArtifactAsync).RequireAction(Actions.ArtifactRead);
    }

    /// <summary>A run as the API shows it, with what it waits for (also GET /projects/{name}/runs/{number}).</summary>
    public static async Task<RunDto> RunAsync(long id, RunService service, PoolPresence presence)
    {
        var run = await service.GetAsync(id);
        return run.ToDto(await presence.WaitingAsync(run));
    }

    private static async Task<RunDto> CancelAsync(long id, RunService service) => (await service.CancelAsync(id)).ToDto();

    private static async Task<RunDto> RetryAsync(long id, RetryRunRequest? request, RunService service) => (await service.RetryAsync(id, request?.Job)).ToDto();

    private static async Task<IResult> DownloadArtifactAsync(long id, string job, string path, RunService service, ArtifactFiles files)
    {
        var run = await service.GetAsync(id);
        var artifact = run.Artifacts.FirstOrDefault(a => a.JobName == job && a.Path == path)
                       ?? throw new KeyNotFoundException($"run {id} has no artifact '{path}' from job '{job}'");
        var stream = await files.OpenReadAsync(artifact.Sha256, CancellationToken.None) ?? throw new KeyNotFoundException("artifact content is missing from the store");
        return Results.File(stream, "application/octet-stream", Path.GetFileName(artifact.Path));
    }
}
