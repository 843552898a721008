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
        api.MapGet("/runs/{id:long}", async (long id, RunStore runs, PoolPresence presence) =>
        {
            var run = await Get(runs, id);
            return run.ToDto(await presence.WaitingAsync(run));
        }).RequireAction(Actions.RunRead);
        api.MapPost("/runs/{id:long}/cancel", CancelAsync).RequireAction(Actions.RunCancel);
        api.MapPost("/runs/{id:long}/retry", RetryAsync).RequireAction(Actions.RunRetry);
        api.MapGet("/runs/{id:long}/artifacts/{job}/{**path}", DownloadArtifactAsync).RequireAction(Actions.ArtifactRead);
    }

    public static async Task<RunDetails> Get(RunStore runs, long id) =>
        await runs.GetAsync(id) ?? throw new KeyNotFoundException($"no run {id}");

    internal static async Task<IResult> CancelAsync(long id, RunStore runs, WorkSignal signal, TimeProvider clock)
    {
        await RefuseDeploymentRunAsync(runs, id, "cancelled", "slipway deployment cancel");
        var running = await runs.CancelAsync(id, clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var job in running) signal.Signal(WorkSignal.Job(job));
        return Results.Ok((await Get(runs, id)).ToDto());
    }

    internal static async Task<IResult> RetryAsync(long id, RetryRunRequest? request, RunStore runs, WorkSignal signal, TimeProvider clock)
    {
        await RefuseDeploymentRunAsync(runs, id, "retried", "slipway deploy, promote or rollback");
        var pools = await runs.RetryAsync(id, string.IsNullOrWhiteSpace(request?.Job) ? null : request.Job, clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
        return Results.Ok((await Get(runs, id)).ToDto());
    }

    /// <summary>
    /// A deployment's run changes only through its deployment: retrying it would deploy again without the environment's
    /// rules and approvals, and cancelling it belongs to the deployment's own cancel (deployment.start on that environment).
    /// </summary>
    private static async Task RefuseDeploymentRunAsync(RunStore runs, long id, string what, string instead)
    {
        if (await runs.GetRunRowAsync(id) is { DeploymentId: not null })
            throw new PolicyRefusedException($"run {id} executes a deployment and cannot be {what} as a run; use {instead} (its rules and approvals apply)");
    }

    private static async Task<IResult> DownloadArtifactAsync(long id, string job, string path, RunStore runs, ArtifactFiles files)
    {
        var run = await Get(runs, id);
        var artifact = run.Artifacts.FirstOrDefault(a => a.JobName == job && a.Path == path)
                       ?? throw new KeyNotFoundException($"run {id} has no artifact '{path}' from job '{job}'");
        var stream = files.OpenRead(artifact.Sha256) ?? throw new KeyNotFoundException("artifact content is missing from the store");
        return Results.File(stream, "application/octet-stream", Path.GetFileName(artifact.Path));
    }
}
