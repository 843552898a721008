using Microsoft.Extensions.Logging;
using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution;

/// <summary>
/// Runs one leased job, in protocol order: workspace and checkout, artifacts of earlier stages, start,
/// the script (while renewing the lease and shipping logs), reports and artifacts, finish.
/// Outcomes: exit 0 succeeded; non-zero, timeout or a setup error failed; cancel asked by the server
/// cancelled; a lost lease abandons the job without a finish (the server has already resolved it).
/// </summary>
public sealed class JobExecutor(IAgentProtocol client, AgentOptions options, Sandbox.JobSandbox sandbox, ILogger log)
{
    /// <summary>Environment variables of the agent's own process that jobs inherit; everything else is withheld.</summary>
    private static readonly string[] InheritedVariables = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "SHELL", "TERM", "DOTNET_ROOT"];

    public async Task RunAsync(JobLease lease, CancellationToken agentStopping)
    {
        using var jobCts = CancellationTokenSource.CreateLinkedTokenSource(agentStopping);
        var shipper = new LogShipper(client, lease, options.LogBatchBytes, options.LogBufferBytes);
        shipper.Start(jobCts.Token);
        using var renewal = new LeaseRenewal(client, lease, renewAfterCancel: lease.Rollout is not null);
        renewal.Start(jobCts.Token);
        Workspace? workspace = null;
        FinishJobRequest result;
        try
        {
            workspace = Workspace.Create(options.WorkDirectory, lease.JobId, lease.LeaseId);
            result = await ExecuteAsync(lease, workspace, shipper, renewal, jobCts.Token);
        }
        catch (Exception e) when (e is LeaseLostException || shipper.Failure is LeaseLostException || renewal.LeaseLost)
        {
            log.LogWarning("job {Job}: lease lost, abandoning it", lease.JobId);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !agentStopping.IsCancellationRequested)
        {
            log.LogError(e, "job {Job} failed in the agent", lease.JobId);
            await shipper.NoteAsync($"agent error: {e.Message}", CancellationToken.None);
            result = new FinishJobRequest(lease.LeaseId, null, JobOutcomes.Failed, "agent error: " + e.Message, null, []);
        }
        finally
        {
            workspace?.Dispose();
        }
        await shipper.CompleteAsync();
        if (shipper.Failure is LeaseLostException || renewal.LeaseLost) return;
        await FinishWithRetriesAsync(lease, Masked(result, shipper), agentStopping);
    }

    /// <summary>The outcome with every text a script could have influenced masked, so no secret reaches the server.</summary>
    private static FinishJobRequest Masked(FinishJobRequest result, LogShipper shipper) => result with
    {
        FailureReason = result.FailureReason is null ? null : shipper.Mask(result.FailureReason),
        TestSummary = result.TestSummary is null ? null : result.TestSummary with
        {
            Failures = result.TestSummary.Failures.Select(f => new TestFailureDto(shipper.Mask(f.Name), shipper.Mask(f.Message))).ToList(),
        },
        ReportErrors = (result.ReportErrors ?? []).Select(shipper.Mask).ToList(),
        // A job could write a secret into its metrics file: it is masked like the log before it leaves the agent.
        Metrics = result.Metrics is null ? null : result.Metrics with
        {
            Text = result.Metrics.Text is null ? null : shipper.Mask(result.Metrics.Text),
            Error = result.Metrics.Error is null ? null : shipper.Mask(result.Metrics.Error),
        },
    };

    /// <summary>
    /// The outcome must reach the server: transient errors are retried for up to a lease. A 409 (lease lost,
    /// or an earlier try that did arrive) or a 400 ends it; the server then resolves the job itself.
    /// </summary>
    private async Task FinishWithRetriesAsync(JobLease lease, FinishJobRequest result, CancellationToken agentStopping)
    {
        var giveUp = DateTime.UtcNow.AddSeconds(lease.LeaseSeconds);
        for (var attempt = 1; ; attempt++)
        {
            try { await client.FinishAsync(lease, result, CancellationToken.None); return; }
            catch (LeaseLostException) { log.LogWarning("job {Job}: lease lost before finish", lease.JobId); return; }
            catch (Protocol.AgentRefusedException e) { log.LogError("job {Job}: finish refused: {Error}", lease.JobId, e.Message); return; }
            catch (Exception e) when (DateTime.UtcNow < giveUp && !agentStopping.IsCancellationRequested)
            {
                log.LogWarning("job {Job}: finish failed ({Error}), retrying", lease.JobId, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * attempt)), CancellationToken.None);
            }
        }
    }

    private async Task<FinishJobRequest> ExecuteAsync(JobLease lease, Workspace workspace, LogShipper shipper, LeaseRenewal renewal, CancellationToken ct)
    {
        await workspace.CheckoutAsync(client, lease, options.WorkDirectory, ct);
        await workspace.DownloadArtifactsAsync(client, lease, ct);
        if (lease.Rollout is { } rollout)
        {
            // A rolling deployment: the agent carries out the server's plan itself (SSH, load balancers); no job script runs
            // here, but an ansible step's controller and a script balancer's commands do, outside the sandbox.
            await client.StartAsync(lease, ct);
            var result = await new Rollout.RolloutExecutor(client, lease, rollout, shipper, renewal, workspace, log, options.InsideServer).RunAsync(ct);
            await shipper.EndOutputAsync(ct);
            if (renewal.LeaseLost || shipper.Failure is LeaseLostException) throw new LeaseLostException(lease.JobId);
            return result;
        }

        var script = Path.Combine(workspace.Temp, "step.sh");
        await File.WriteAllTextAsync(script, lease.Script, ct);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in InheritedVariables)
            if (Environment.GetEnvironmentVariable(name) is { } value) env[name] = value;
        env["TMPDIR"] = workspace.Temp;
        sandbox.AdjustEnvironment(env, workspace);
        foreach (var (k, v) in lease.Env) env[k] = v;
        sandbox.Prepare(workspace);

        await client.StartAsync(lease, ct);
        var (program, prefix) = sandbox.Wrap(workspace, "/bin/bash");
        using var process = ScriptProcess.Start(program, prefix, script, workspace.Source, env, sandboxed: sandbox.Mode != Sandbox.SandboxMode.None);
        // An agent that is stopping takes its jobs' processes down with it instead of leaving orphans.
        using var stopping = ct.Register(process.KillGroup);
        var reading = PumpOutputAsync(process, shipper, ct);
        var exited = process.WaitForExitAsync(ct);
        var timeout = Task.Delay(TimeSpan.FromSeconds(lease.TimeoutSeconds), ct);

        string? stopReason = null;
        var outcome = JobOutcomes.Failed;
        while (!exited.IsCompleted)
        {
            var tick = Task.Delay(200, ct);
            var first = await Task.WhenAny(exited, timeout, renewal.CancelAsked, tick);
            if (first == timeout) { stopReason = $"timed out after {FormatDuration(lease.TimeoutSeconds)}"; break; }
            if (first == renewal.CancelAsked || shipper.CancelRequested) { stopReason = "cancelled"; outcome = JobOutcomes.Cancelled; break; }
            if (renewal.LeaseLost || shipper.Failure is LeaseLostException) { stopReason = "lease lost"; break; }
        }
        if (stopReason is not null) await process.StopGroupAsync(options.KillGrace);
        else process.KillGroup(); // leftovers of a finished script must not outlive the job
        var exitCode = exited.IsCompletedSuccessfully ? exited.Result : (int?)null;
        if (exitCode is null) { try { exitCode = await process.WaitForExitAsync(CancellationToken.None); } catch (InvalidOperationException) { } }
        // A process that left the group (setsid) may still hold the pipe open: wait for the rest of the output
        // a little, never forever.
        await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        if (reading.IsCompleted) await shipper.EndOutputAsync(ct); // release what the secret masker held back
        if (renewal.LeaseLost || shipper.Failure is LeaseLostException) throw new LeaseLostException(lease.JobId);

        if (stopReason is not null)
        {
            await shipper.NoteAsync($"job {stopReason}; its processes were stopped", ct);
            var reports = await ReportCollector.CollectAsync(workspace, lease.ReportGlobs, ct);
            return new FinishJobRequest(lease.LeaseId, exitCode, outcome, stopReason, reports.Summary, reports.Errors,
                await MetricsFileReader.ReadAsync(workspace, lease.MetricsFile, ct));
        }

        var succeeded = exitCode == 0;
        var collected = await ReportCollector.CollectAsync(workspace, lease.ReportGlobs, ct);
        if (succeeded) await UploadArtifactsAsync(lease, workspace, shipper, ct);
        return new FinishJobRequest(lease.LeaseId, exitCode, succeeded ? JobOutcomes.Succeeded : JobOutcomes.Failed,
            succeeded ? null : $"the script exited with code {exitCode}", collected.Summary, collected.Errors,
            await MetricsFileReader.ReadAsync(workspace, lease.MetricsFile, ct));
    }

    private static async Task PumpOutputAsync(ScriptProcess process, LogShipper shipper, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        int read;
        try
        {
            while ((read = await process.Output.ReadAsync(buffer, ct)) > 0)
                await shipper.WriteAsync(buffer.AsMemory(0, read).ToArray(), ct);
        }
        catch (IOException) { } // the pipe closed under us when the group was killed
    }

    private async Task UploadArtifactsAsync(JobLease lease, Workspace workspace, LogShipper shipper, CancellationToken ct)
    {
        var links = new List<string>();
        var files = workspace.Find(lease.ArtifactGlobs, links);
        foreach (var link in links)
            await shipper.NoteAsync($"artifact {link} skipped: it is a symbolic link or not a regular file (links are never followed out of the workspace)", ct);
        foreach (var relative in files)
        {
            var full = workspace.SafePath(relative);
            var executable = (File.GetUnixFileMode(full) & UnixFileMode.UserExecute) != 0;
            await using var content = File.OpenRead(full);
            var stored = await client.UploadArtifactAsync(lease, relative, executable, content, ct);
            await shipper.NoteAsync($"artifact {relative} ({stored.Size} bytes, sha256 {stored.Sha256[..12]})", ct);
        }
        if (lease.ArtifactGlobs.Count > 0 && files.Count == 0)
            await shipper.NoteAsync($"no files matched the artifact patterns {string.Join(", ", lease.ArtifactGlobs)}", ct);
    }

    private static string FormatDuration(int seconds) =>
        seconds % 3600 == 0 ? $"{seconds / 3600}h" : seconds % 60 == 0 ? $"{seconds / 60}m" : $"{seconds}s";
}
