using System.Diagnostics;
using System.Globalization;
using Slipway.Core.Deployments.Rollout;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;

namespace Slipway.Server.Checks;

/// <summary>
/// One script check: the administrator's script runs as a one-job run (kind <c>check</c>: no run number, not in CI
/// lists, never released) on the environment's pool, in a checkout of the release current there, with the environment's
/// variables and secrets like a deployment's job. It passes when the job succeeds. A run no agent finished within the
/// check's timeout plus <see cref="ServerOptions.ScriptCheckAgentWait"/> is cancelled and the check fails, saying so.
/// </summary>
public sealed class ScriptProbe(EnvironmentStore environments, DeploymentStore deployments, ReleaseStore releases, RunStore runs, RunService runService,
    WorkSignal signal, ServerOptions options, TimeProvider clock)
{
    /// <summary>The outcome, or null when nothing is deployed on the environment yet (nothing to check).</summary>
    public async Task<CheckOutcome?> ProbeAsync(CheckRow check, CancellationToken ct)
    {
        if (await environments.GetAsync(check.EnvironmentId) is not { } environment
            || await deployments.CurrentReleaseAsync(check.EnvironmentId) is not { } releaseId
            || await releases.GetAsync(releaseId) is not { } release)
            return null;
        // A release check runs the script the release current there offers under that name (reviewed code of the release,
        // like its deploy job); a release that offers none fails the check, saying so.
        var script = check.Script;
        if (check.Kind == "release")
        {
            script = PipelineParser.Parse(release.PipelineSnapshot).Pipeline?.Deploy?.Checks?.FirstOrDefault(c => c.Name == check.ReleaseCheck)?.Run;
            if (script is null)
                return new CheckOutcome(false, null, 0, $"release {release.Version}'s pipeline file has no check '{check.ReleaseCheck}' (deploy: checks:)");
        }
        var variables = await environments.VariablesAsync(environment.Id);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RolloutVariables.Environment] = environment.Name,
            [RolloutVariables.Release] = release.Version,
            ["SLIPWAY_CHECK"] = check.Id.ToString(CultureInfo.InvariantCulture),
        };
        var job = new JobDefinition("check", script!, values, environment.Pool, [], [], [], check.Timeout, 0,
            variables.Where(v => v.Secret).Select(v => v.Name).ToList());
        var plan = RunPlanner.Plan(new PipelineDefinition(new Dictionary<string, string>(), [new StageDefinition("check", null, new Dictionary<string, string>(), [job])]),
            release.Branch);
        var watch = Stopwatch.StartNew();
        var (runId, pools) = await runs.CreateAsync(new NewRun(check.ProjectId, release.Branch, release.CommitSha, $"live check {check.Id}",
            $"live check {check.Id} of {environment.Name}", plan, [], CheckId: check.Id), clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));

        var deadline = check.Timeout + options.ScriptCheckAgentWait;
        while (true)
        {
            var details = await runs.GetAsync(runId);
            if (details is { Run.Status: "succeeded" })
                return new CheckOutcome(true, null, watch.ElapsedMilliseconds, $"the script passed (run {runId})");
            if (details is { Run.Status: "failed" or "cancelled" })
            {
                var why = details.Jobs.FirstOrDefault()?.FailureReason ?? details.Run.FailureReason ?? details.Run.Status;
                return new CheckOutcome(false, null, watch.ElapsedMilliseconds, $"{why} (run {runId})");
            }
            if (watch.Elapsed > deadline)
            {
                try { await runService.CancelDeploymentRunAsync(runId); } catch (Exception e) when (e is ConflictException or KeyNotFoundException) { }
                var waited = details?.Jobs.FirstOrDefault()?.Status == "queued";
                return new CheckOutcome(false, null, watch.ElapsedMilliseconds, waited
                    ? $"no agent of pool '{environment.Pool}' took the script within {Slipway.Core.Pipelines.Durations.Format(deadline)} (run {runId}, cancelled)"
                    : $"the script did not finish within {Slipway.Core.Pipelines.Durations.Format(deadline)} (run {runId}, cancelled)");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }
}
