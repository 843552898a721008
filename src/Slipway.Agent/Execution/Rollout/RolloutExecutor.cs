using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Carries out a rolling deployment (<see cref="JobLease.Rollout"/>) from the deploy agent: batch after batch, the
/// targets of a batch in parallel, each over one SSH connection reused for all its steps (host key checked before
/// anything is sent). Behind a load balancer a target is drained, put in maintenance, updated, checked, made ready and
/// waited for until every balancer reports it UP. Safety rules, in order of importance:
/// <list type="bullet">
/// <item>a target is taken out of rotation only after its SSH connection is up, so an unreachable or impostor host is never drained;</item>
/// <item>before a batch the balancers are asked how many servers are UP: a batch that would leave fewer than min_healthy does not start;</item>
/// <item>a failed target stays out of rotation (maint) with its reason; every other target of the batch goes back to ready;</item>
/// <item>a cancel lets the running batch finish (never leaves a target drained) and starts no other; more failed targets than
/// max_failures stop the rollout after the batch.</item>
/// </list>
/// Every state change is reported to the server per target (<see cref="TargetProgressRequest"/>), which records it and
/// audits each load-balancer change.
/// </summary>
public sealed class RolloutExecutor(IAgentProtocol client, JobLease lease, RolloutJob rollout, LogShipper shipper, LeaseRenewal renewal,
    Workspace workspace, ILogger log, bool insideServer = false)
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _logLock = new(1, 1);
    private readonly BalancerSet _balancers = new(rollout.Balancers);
    private readonly NodeFiles _nodeFiles = new(client, lease);

    /// <summary><c>Skipped</c>/<c>Aborted</c>: on_failure: pause, a deployer's decision for this failed target.</summary>
    private sealed record TargetOutcome(RolloutTargetSpec Target, bool Succeeded, string? Reason, bool Skipped = false, string? AbortedBy = null);

    public async Task<FinishJobRequest> RunAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(lease.TimeoutSeconds));
        if (rollout.Mode == RolloutJob.RepairMode) return await RepairAsync(timeout.Token);
        var credentials = Credentials();
        if (credentials is null && rollout.Targets.Any(t => t.NodeAgent is null))
            return Finish(JobOutcomes.Failed, $"the SSH private key {rollout.SshKeyVariable} did not reach the agent; nothing ran");
        if (Preflight() is { } notStarted)
        {
            await NoteAsync(notStarted);
            return Finish(JobOutcomes.Failed, notStarted);
        }
        var batches = rollout.Targets.GroupBy(t => t.Batch).OrderBy(g => g.Key).ToList();
        var ansibleSteps = Enumerable.Range(0, rollout.Steps.Count).Where(i => rollout.Steps[i].Kind == "ansible").ToList();
        var ansible = new AnsibleRunner(workspace, rollout, credentials!, (target, line) =>
            target is null ? NoteAsync(line) : WriteAsync($"[{target}] {line}\n"));
        await NoteAsync($"rolling {rollout.Values.GetValueOrDefault("SLIPWAY_RELEASE")} to {rollout.Targets.Count} target(s) in {batches.Count} batch(es)" +
                        (_balancers.Any ? $", {rollout.Balancers.Count} load balancer(s), min_healthy {_balancers.MinHealthy}" : ", no load balancer") +
                        $", max_failures {rollout.MaxFailures}");
        var failed = new List<TargetOutcome>();
        var skipped = new List<string>();
        var clock = Stopwatch.StartNew();
        // Staging runs one batch ahead: while batch k is out of rotation, batch k+1's connections are made and its
        // leading uploads sent (the servers still serve meanwhile), so a batch's time out of rotation is only the rest.
        var staged = new Dictionary<string, Task<Staged>>(StringComparer.Ordinal);
        var started = new HashSet<string>(StringComparer.Ordinal);
        void Stage(IEnumerable<RolloutTargetSpec> targets)
        {
            foreach (var t in targets) staged[t.Name] = StageAsync(t, credentials, timeout.Token);
        }
        try
        {
            if (batches.Count > 0) Stage(batches[0]);
            for (var b = 0; b < batches.Count; b++)
            {
                var batch = batches[b];
                if (CancelAsked)
                    return Finish(JobOutcomes.Cancelled, $"cancelled before batch {batch.Key}; {Summary(failed)}");
                if (timeout.IsCancellationRequested)
                    return Finish(JobOutcomes.Failed, $"timed out after {lease.TimeoutSeconds}s before batch {batch.Key}; {Summary(failed)}");
                if (_balancers.Any && await RefuseBatchAsync(batch.ToList(), timeout.Token) is { } refusal)
                {
                    await NoteAsync($"batch {batch.Key} not started: {refusal}");
                    return Finish(JobOutcomes.Failed, $"batch {batch.Key} not started: {refusal}");
                }
                await NoteAsync($"batch {batch.Key}: {string.Join(", ", batch.Select(t => t.Name))}");
                if (b + 1 < batches.Count) Stage(batches[b + 1]);
                started.UnionWith(batch.Select(t => t.Name));
                var meeting = new AnsibleBatch(batch.Select(t => t.Name), ansibleSteps,
                    (index, arrived) => ansible.RunAsync(rollout.Steps[index], arrived, timeout.Token));
                AnsibleBatch Solo(RolloutTargetSpec t) => new([t.Name], ansibleSteps, (index, arrived) => ansible.RunAsync(rollout.Steps[index], arrived, timeout.Token));
                using var batchAbort = new BatchAbort();
                var outcomes = await Task.WhenAll(batch.Select(t => GuidedAsync(t, staged[t.Name], meeting, () => Solo(t), credentials, batchAbort, timeout.Token)));
                failed.AddRange(outcomes.Where(o => !o.Succeeded && !o.Skipped));
                skipped.AddRange(outcomes.Where(o => o.Skipped).Select(o => o.Target.Name));
                if (outcomes.FirstOrDefault(o => o.AbortedBy is not null) is { } aborted)
                {
                    var why = $"batch {batch.Key}: aborted by {aborted.AbortedBy} at {aborted.Target.Name}; {Summary(failed)}";
                    await NoteAsync(why);
                    return Finish(JobOutcomes.Failed, why);
                }
                if (failed.Count > rollout.MaxFailures)
                {
                    var why = $"batch {batch.Key} failed: {Summary(failed)}; the rollout stopped (max_failures {rollout.MaxFailures})";
                    await NoteAsync(why);
                    return Finish(JobOutcomes.Failed, why);
                }
            }
        }
        finally
        {
            // Connections staged for a batch that never started (the rollout stopped) are closed here.
            foreach (var pending in staged.Where(kv => !started.Contains(kv.Key)).Select(kv => kv.Value))
                if (await Task.WhenAny(pending) is { IsCompletedSuccessfully: true } done && done.Result.Connection is { } connection) await connection.DisposeAsync();
        }
        if (CancelAsked)
            return Finish(JobOutcomes.Cancelled, $"cancelled during the last batch, which was finished; {Summary(failed)}");
        await NoteAsync($"rollout done in {clock.Elapsed.TotalSeconds:0.0}s: {rollout.Targets.Count - failed.Count} of {rollout.Targets.Count} target(s) updated" +
                        (failed.Count > 0 ? $"; {Summary(failed)} (within max_failures {rollout.MaxFailures})" : "") +
                        (skipped.Count > 0 ? $"; skipped by a deployer, still out of rotation: {string.Join(", ", skipped)}" : ""));
        return Finish(JobOutcomes.Succeeded, null);
    }

    /// <summary>
    /// What can be known to fail before any target is touched: a load-balancer kind or a step kind this agent does not
    /// know, a file of the release that is not there, Ansible missing. Null when the rollout may start.
    /// </summary>
    private string? Preflight()
    {
        foreach (var balancer in rollout.Balancers)
            if (BalancerSet.Check(balancer) is { } unusable)
                return unusable + "; no target was touched";
        foreach (var step in rollout.Steps)
        {
            if (!RolloutStepSpec.Kinds.Contains(step.Kind))
                return $"step kind '{step.Kind}' is not known to this agent (upgrade the deploy agent); no target was touched";
            var file = step.Kind switch { "upload" => step.From, "ansible" => step.Playbook, _ => null };
            if (file is null) continue;
            try
            {
                if (!File.Exists(workspace.SafePath(file)))
                    return step.Kind == "ansible"
                        ? $"the playbook '{file}' is not in the release's source; no target was touched"
                        : $"'{file}' is not among the release's files (artifacts of the release run); no target was touched";
            }
            catch (InvalidDataException e)
            {
                return $"{step.Describe}: {e.Message}; no target was touched";
            }
            // The playbook's controller side (lookups, local tasks, ansible.cfg, library/) runs on this agent outside the job
            // sandbox: never inside a Slipway server, where it could read the server's data.
            if (step.Kind == "ansible" && insideServer)
                return "an ansible step runs the playbook's controller side on the deploy agent outside the job sandbox, so the server's embedded " +
                       "agent does not run it: give the environment a deploy pool with an agent of its own (docs/last-mile.md); no target was touched";
            if (step.Kind == "ansible" && AnsibleRunner.Find() is null)
                return AnsibleRunner.NotInstalled + "; no target was touched";
            if (step.Kind == "ansible" && rollout.Targets.Where(t => t.NodeAgent is not null).Select(t => t.Name).ToList() is { Count: > 0 } nodes)
                return $"the ansible step reaches its hosts by SSH, and {string.Join(", ", nodes)} are served by node agents; no target was touched";
        }
        return null;
    }

    private bool CancelAsked => renewal.CancelAsked.IsCompleted || shipper.CancelRequested;

    private SshCredentials? Credentials() =>
        lease.Env.TryGetValue(rollout.SshKeyVariable, out var key) && key.Length > 0
            ? new SshCredentials(key, rollout.SshPassphraseVariable is { } p && lease.Env.TryGetValue(p, out var passphrase) ? passphrase : null)
            : null;

    private FinishJobRequest Finish(string outcome, string? reason) =>
        new(lease.LeaseId, outcome == JobOutcomes.Succeeded ? 0 : null, outcome, reason, null, []);

    private static string Summary(IReadOnlyList<TargetOutcome> failed) =>
        failed.Count == 0 ? "no target failed" : $"{failed.Count} target(s) failed: " + string.Join("; ", failed.Select(f => $"{f.Target.Name} ({f.Reason})"));

    /// <summary>Null when taking the batch out leaves at least min_healthy servers in rotation in every backend it touches (by every balancer's count).</summary>
    private async Task<string?> RefuseBatchAsync(IReadOnlyList<RolloutTargetSpec> batch, CancellationToken ct)
    {
        try
        {
            foreach (var group in batch.Where(t => t.Backend is not null).GroupBy(t => t.Backend!))
            {
                var leaving = group.Select(t => t.Server!).ToHashSet(StringComparer.Ordinal);
                foreach (var (balancer, servers) in await _balancers.BackendAsync(group.Key, ct))
                {
                    var remaining = servers.Count(s => !leaving.Contains(s.Server) && BalancerSet.InRotation(s));
                    if (remaining < _balancers.MinHealthy)
                        return $"load balancer '{balancer}' has {remaining} other server(s) in rotation in backend '{group.Key}' " +
                               $"({string.Join(", ", servers.Select(s => $"{s.Server} {s.Status}"))}); taking out {string.Join(", ", leaving)} " +
                               $"would leave fewer than min_healthy {_balancers.MinHealthy}";
                }
            }
            return null;
        }
        catch (LoadBalancerException e)
        {
            return $"the load balancers could not be read: {e.Message}";
        }
    }

    /// <summary>A target made ready ahead of its batch: its connection and the steps already done (leading uploads), or why it failed.</summary>
    private sealed record Staged(ITargetConnection? Connection, int StepsDone, string Step, Exception? Failure);

    /// <summary>
    /// Connects to the target (host key checked first) and runs the leading <c>upload</c> steps: nothing that changes
    /// what the server serves, so it happens while the target is still in rotation. Never throws: a failure is kept
    /// for the target's turn, so the target fails in its batch without being drained.
    /// </summary>
    private async Task<Staged> StageAsync(RolloutTargetSpec t, SshCredentials? credentials, CancellationToken ct)
    {
        ITargetConnection? ssh = null;
        var step = "connect";
        var done = 0;
        try
        {
            ssh = t.NodeAgent is not null
                ? await NodeTargetConnection.ConnectAsync(client, lease, t, _nodeFiles, ct)
                : await SshTargetConnection.ConnectAsync(new SshEndpoint(t.Host, t.Port, t.User, t.HostKey), credentials!, ConnectTimeout, ct);
            var values = TargetValues(t);
            for (; done < rollout.Steps.Count && rollout.Steps[done].Kind == "upload"; done++)
            {
                step = rollout.Steps[done].Describe;
                if (await RunStepAsync(t, ssh, rollout.Steps[done], values, ct) is { } failure)
                    return new Staged(ssh, done, step, new StepFailedException(failure));
            }
            return new Staged(ssh, done, step, null);
        }
        catch (Exception e)
        {
            return new Staged(ssh, done, step, e);
        }
    }

    private sealed class StepFailedException(string message) : Exception(message);

    /// <summary>
    /// A target's procedure, and with on_failure: pause, what follows its failure: it waits (state paused, still out of
    /// rotation if it was taken out) until a deployer decides for it alone — retry (the whole procedure again, from a new
    /// connection), skip (it stays out, the rollout goes on without counting it) or abort (the rollout stops after this
    /// batch). A cancel or the deployment's timeout ends the wait as a failure.
    /// </summary>
    private async Task<TargetOutcome> GuidedAsync(RolloutTargetSpec t, Task<Staged> staging, AnsibleBatch meeting, Func<AnsibleBatch> solo,
        SshCredentials? credentials, BatchAbort batchAbort, CancellationToken ct)
    {
        var outcome = await DeployTargetAsync(t, staging, meeting, ct);
        while (!outcome.Succeeded && rollout.PauseOnFailure)
        {
            await ReportAsync(t, TargetStates.Paused, null, null, null, final: false);
            await LogAsync(t, "paused: waiting for a deployer's decision (retry, skip or abort)");
            var decision = await WaitForDecisionAsync(t, batchAbort, ct);
            if (decision is null)
            {
                var why = $"{outcome.Reason}; " + (batchAbort.By is { } by ? $"the rollout was aborted by {by} at {batchAbort.Target}"
                    : CancelAsked ? "the deployment was cancelled while it waited for a decision" : "the deployment's timeout passed while it waited for a decision");
                await LogAsync(t, "no longer waiting: " + why[(outcome.Reason?.Length ?? 0)..].TrimStart(';', ' '));
                await ReportAsync(t, TargetStates.Failed, null, null, why, final: true);
                return outcome with { Reason = why };
            }
            await LogAsync(t, $"{decision.Decision}, decided by {decision.By}");
            switch (decision.Decision)
            {
                case "retry":
                    // A target that failed before it was taken out would be drained now, maybe much later: ask the balancers again.
                    if (_balancers.Any && t.Backend is not null && await RefuseBatchAsync([t], ct) is { } refusal)
                    {
                        await LogAsync(t, $"retry not started: {refusal}; still waiting for a decision");
                        break;
                    }
                    outcome = await DeployTargetAsync(t, StageAsync(t, credentials, ct), solo(), ct);
                    break;
                case "skip":
                    await ReportAsync(t, TargetStates.Skipped, null, null, $"skipped by {decision.By} after: {outcome.Reason}", final: true);
                    return outcome with { Skipped = true };
                default:
                    // The other paused targets of the batch stop waiting too: an abort ends the batch, not just this target.
                    batchAbort.Abort(decision.By, t.Name);
                    await ReportAsync(t, TargetStates.Failed, null, null, $"{outcome.Reason}; the rollout was aborted by {decision.By}", final: true);
                    return outcome with { AbortedBy = decision.By };
            }
        }
        return outcome;
    }

    /// <summary>An abort decided for one target of a batch: the others' waits for a decision end with it.</summary>
    private sealed class BatchAbort : IDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        public string? By { get; private set; }
        public string? Target { get; private set; }
        public CancellationToken Token => _cts.Token;

        public void Abort(string by, string target)
        {
            lock (_cts)
            {
                if (By is not null) return;
                (By, Target) = (by, target);
            }
            _cts.Cancel();
        }

        public void Dispose() => _cts.Dispose();
    }

    /// <summary>A deployer's decision for a paused target; null when the deployment was cancelled, timed out or aborted meanwhile.</summary>
    private async Task<TargetDecisionDto?> WaitForDecisionAsync(RolloutTargetSpec t, BatchAbort batchAbort, CancellationToken deploymentCt)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deploymentCt, batchAbort.Token);
        var ct = linked.Token;
        while (!CancelAsked && !ct.IsCancellationRequested)
        {
            try
            {
                if (await client.TargetDecisionAsync(lease, t.Name, TimeSpan.FromSeconds(10), ct) is { } decision
                    && Core.Deployments.Rollout.TargetDecisions.All.Contains(decision.Decision))
                    return decision;
            }
            catch (OperationCanceledException) { return null; }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); } catch (OperationCanceledException) { return null; }
            }
        }
        return null;
    }

    private async Task<TargetOutcome> DeployTargetAsync(RolloutTargetSpec t, Task<Staged> staging, AnsibleBatch meeting, CancellationToken ct)
    {
        var behind = _balancers.Any && t.Backend is not null && t.Server is not null;
        string? lbState = null;
        var step = "connect";
        var clock = Stopwatch.StartNew();
        ITargetConnection? ssh = null;
        try
        {
            await ReportAsync(t, TargetStates.Deploying, null, step, null, final: false);
            var staged = await staging;
            ssh = staged.Connection;
            if (staged.Failure is { } stagingFailure)
            {
                step = staged.Step;
                if (stagingFailure is StepFailedException) return await FailAsync(t, lbState, step, stagingFailure.Message);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stagingFailure);
            }
            if (behind)
            {
                step = "drain";
                await _balancers.SetStateAsync(t.Backend!, t.Server!, "drain", ct);
                lbState = "drain";
                await ReportAsync(t, TargetStates.Draining, lbState, step, null, final: false);
                if (!await _balancers.WaitDrainedAsync(t.Backend!, t.Server!, ct))
                    await LogAsync(t, $"still had sessions after the drain timeout ({_balancers.DrainTimeout.TotalSeconds:0}s); going on");
                await _balancers.SetStateAsync(t.Backend!, t.Server!, "maint", ct);
                lbState = "maint";
                await ReportAsync(t, TargetStates.Deploying, lbState, "maint", null, final: false);
            }
            var values = TargetValues(t);
            for (var i = staged.StepsDone; i < rollout.Steps.Count; i++)
            {
                var s = rollout.Steps[i];
                step = s.Describe;
                await ReportAsync(t, TargetStates.Deploying, null, step, null, final: false);
                var failure = s.Kind == "ansible"
                    ? await meeting.ArriveAsync(i, t, ssh!.HostKey!)
                    : await RunStepAsync(t, ssh!, s, values, ct);
                if (failure is not null) return await FailAsync(t, lbState, step, failure);
            }
            if (behind)
            {
                step = "ready";
                await _balancers.SetStateAsync(t.Backend!, t.Server!, "ready", ct);
                lbState = "ready";
                await ReportAsync(t, TargetStates.Enabling, lbState, step, null, final: false);
                if (await _balancers.WaitUpAsync(t.Backend!, t.Server!, UpTimeout, ct) is { } notUp)
                {
                    // Back in rotation but not healthy: take it out again rather than leave a broken server behind the balancer.
                    await _balancers.SetStateAsync(t.Backend!, t.Server!, "maint", CancellationToken.None);
                    return await FailAsync(t, "maint", step, $"not UP within {UpTimeout.TotalSeconds:0}s after ready: {notUp}; put back in maintenance");
                }
            }
            await LogAsync(t, $"updated in {clock.Elapsed.TotalSeconds:0.0}s");
            await ReportAsync(t, TargetStates.Succeeded, lbState, null, null, final: true);
            return new TargetOutcome(t, true, null);
        }
        catch (HostKeyMismatchException e) { return await FailAsync(t, lbState, step, e.Message); }
        catch (SshTargetException e) { return await FailAsync(t, lbState, step, e.Message); }
        catch (NodeAgentException e) { return await FailAsync(t, lbState, step, e.Message); }
        catch (LoadBalancerException e) { return await FailAsync(t, lbState, step, e.Message); }
        catch (OperationCanceledException) { return await FailAsync(t, lbState, step, $"interrupted (the deployment's {lease.TimeoutSeconds}s timeout, or the agent stopping)"); }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or ArgumentException)
        {
            return await FailAsync(t, lbState, step, e.Message);
        }
        finally
        {
            // No later ansible step of this batch waits for a target that is done, failed or not.
            meeting.Leave(t.Name);
            if (ssh is not null) await ssh.DisposeAsync();
        }
    }

    /// <summary>
    /// deployment repair N: every target (all behind a balancer, all in one batch) is set back to ready and waited for until
    /// every balancer reports it UP; one that does not come UP goes back to maintenance. No step runs, nothing is deployed.
    /// </summary>
    private async Task<FinishJobRequest> RepairAsync(CancellationToken ct)
    {
        await NoteAsync($"repair of deployment #{rollout.Values.GetValueOrDefault("SLIPWAY_DEPLOYMENT")}: putting {string.Join(", ", rollout.Targets.Select(t => t.Name))} " +
                        $"back in rotation on {rollout.Balancers.Count} load balancer(s)");
        var outcomes = await Task.WhenAll(rollout.Targets.Select(t => RepairTargetAsync(t, ct)));
        var failed = outcomes.Where(o => !o.Succeeded).ToList();
        if (failed.Count > 0) return Finish(JobOutcomes.Failed, $"repair: {Summary(failed)}");
        await NoteAsync($"repair done: {outcomes.Length} target(s) back in rotation");
        return Finish(JobOutcomes.Succeeded, null);
    }

    private async Task<TargetOutcome> RepairTargetAsync(RolloutTargetSpec t, CancellationToken ct)
    {
        string? lbState = null;
        try
        {
            // The live state first: the record may be older than what a lost agent did (or a person did by hand since).
            var live = (await _balancers.BackendAsync(t.Backend!, ct))
                .Select(v => (v.Balancer, Stat: v.Servers.FirstOrDefault(s => s.Server == t.Server))).ToList();
            await LogAsync(t, "load balancers report: " + string.Join(", ", live.Select(v => $"{v.Balancer} {v.Stat?.Status ?? "no such server"}")));
            if (live.All(v => v.Stat is { } s && BalancerSet.InRotation(s)))
            {
                await ReportAsync(t, TargetStates.Restored, "ready", "ready", "already in rotation on every load balancer: nothing to do", final: true);
                return new TargetOutcome(t, true, null);
            }
            await _balancers.SetStateAsync(t.Backend!, t.Server!, "ready", ct);
            lbState = "ready";
            await ReportAsync(t, TargetStates.Restoring, lbState, "wait UP", null, final: false);
            if (await _balancers.WaitUpAsync(t.Backend!, t.Server!, UpTimeout, ct) is { } notUp)
            {
                await _balancers.SetStateAsync(t.Backend!, t.Server!, "maint", CancellationToken.None);
                return await FailAsync(t, "maint", "wait UP", $"not UP within {UpTimeout.TotalSeconds:0}s after ready: {notUp}; put back in maintenance");
            }
            await LogAsync(t, "back in rotation: UP on every load balancer");
            await ReportAsync(t, TargetStates.Restored, lbState, "ready", "put back in rotation by a repair", final: true);
            return new TargetOutcome(t, true, null);
        }
        catch (LoadBalancerException e) { return await RepairFailedAsync(t, lbState, e.Message); }
        catch (OperationCanceledException) { return await RepairFailedAsync(t, lbState, "interrupted (the repair's time limit, or the agent stopping)"); }
    }

    private async Task<TargetOutcome> RepairFailedAsync(RolloutTargetSpec t, string? lbState, string reason)
    {
        await LogAsync(t, $"REPAIR FAILED: {reason}; " + (lbState is null ? "its load-balancer state is unchanged" : $"left in {lbState}"));
        await ReportAsync(t, TargetStates.Failed, lbState, "ready", "repair failed: " + reason, final: true);
        return new TargetOutcome(t, false, reason);
    }

    /// <summary>A failed target stays out of rotation when it was taken out (maint), or untouched when it never was.</summary>
    private async Task<TargetOutcome> FailAsync(RolloutTargetSpec t, string? lbState, string step, string reason)
    {
        if (lbState is "drain")
        {
            try { await _balancers.SetStateAsync(t.Backend!, t.Server!, "maint", CancellationToken.None); lbState = "maint"; }
            catch (LoadBalancerException e) { reason += $"; could not put it in maintenance: {e.Message}"; }
        }
        var where = lbState switch
        {
            null => "never taken out of rotation",
            "ready" => "set back to ready",
            _ => $"left in {lbState} (out of rotation)",
        };
        await LogAsync(t, $"FAILED at {step}: {reason}; {where}");
        await ReportAsync(t, TargetStates.Failed, lbState, step, reason, final: true);
        return new TargetOutcome(t, false, $"{step}: {reason}");
    }

    private IReadOnlyDictionary<string, string> TargetValues(RolloutTargetSpec t) => new Dictionary<string, string>(rollout.Values, StringComparer.Ordinal)
    {
        ["SLIPWAY_TARGET"] = t.Name,
        ["SLIPWAY_TARGET_HOST"] = t.Host,
        ["SLIPWAY_BATCH"] = t.Batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Null when the step succeeded; else why not.</summary>
    private async Task<string?> RunStepAsync(RolloutTargetSpec t, ITargetConnection ssh, RolloutStepSpec step, IReadOnlyDictionary<string, string> values,
        CancellationToken ct)
    {
        switch (step.Kind)
        {
            case "upload":
            {
                var local = workspace.SafePath(step.From!);
                if (!File.Exists(local)) return $"'{step.From}' is not among the release's files (artifacts of the release run)";
                var to = Core.Deployments.Rollout.RolloutVariables.Expand(step.To!, values, out var error) ?? throw new InvalidOperationException(error);
                var clock = Stopwatch.StartNew();
                await ssh.UploadAsync(local, to, ct);
                await LogAsync(t, $"uploaded {step.From} ({new FileInfo(local).Length} bytes) to {to} in {clock.ElapsedMilliseconds} ms");
                return null;
            }
            case "ssh":
            {
                await LogAsync(t, "$ " + step.Describe[5..]);
                var exit = await ssh.RunAsync(step.Script!, values, line => LogAsync(t, line), TimeSpan.FromSeconds(lease.TimeoutSeconds), ct);
                return exit == 0 ? null : $"the script exited with code {exit}";
            }
            case "health":
            {
                var url = Core.Deployments.Rollout.RolloutVariables.Expand(step.Url!, values, out var error) ?? throw new InvalidOperationException(error);
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return $"'{url}' is not an http(s) URL";
                var failure = await HealthProbe.CheckAsync(uri, step.Expect ?? 200, TimeSpan.FromSeconds(step.WithinSeconds ?? 30), ct);
                await LogAsync(t, failure is null ? $"health {url}: {step.Expect ?? 200}" : $"health {failure}");
                return failure;
            }
            default:
                return $"step kind '{step.Kind}' is not known to this agent";
        }
    }

    private async Task ReportAsync(RolloutTargetSpec t, string state, string? lbState, string? step, string? reason, bool final)
    {
        try
        {
            await client.ReportTargetAsync(lease, new TargetProgressRequest(lease.LeaseId, t.Name, state, lbState, step, reason is null ? null : shipper.Mask(reason), final),
                CancellationToken.None);
        }
        catch (Exception e) when (e is not LeaseLostException)
        {
            // The log and the final outcome still tell the story; a lost progress report must not stop a rollout half-way.
            log.LogWarning("job {Job}: progress of target {Target} not reported: {Error}", lease.JobId, t.Name, e.Message);
        }
    }

    private Task LogAsync(RolloutTargetSpec t, string line) => WriteAsync($"[{t.Name}] {line}\n");

    private Task NoteAsync(string line) => WriteAsync($"[slipway] {line}\n");

    private async Task WriteAsync(string text)
    {
        await _logLock.WaitAsync();
        try { await shipper.WriteAsync(Encoding.UTF8.GetBytes(text), CancellationToken.None); }
        finally { _logLock.Release(); }
    }
}
