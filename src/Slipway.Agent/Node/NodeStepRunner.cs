using System.Diagnostics;
using System.Text;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Node;

/// <summary>
/// Carries out one node task on this machine (a node agent runs on the target it serves): the equivalent of what the deploy
/// agent would do over SSH. A <c>run</c> script gets the node agent's own environment (as a login session on the host
/// would), minus the agent's SLIPWAY_* settings, plus the step's SLIPWAY_* values; it is passed to bash as an argument,
/// never pasted into other shell text. It is not sandboxed: deploying to this machine is what it is for.
/// </summary>
public sealed class NodeStepRunner(AgentOptions options)
{
    /// <summary>The output kept for the deploy agent's log (the tail, when a step prints more).</summary>
    public const int MaxOutputChars = 64 * 1024;

    /// <param name="stop">Completes (with why) when the server says the task must stop; a running script is then killed.</param>
    public async Task<NodeTaskFinish> RunAsync(NodeTask task, Func<CancellationToken, Task<Stream>> download, CancellationToken ct, Task<string>? stop = null)
    {
        try
        {
            return task.Kind switch
            {
                NodeTaskKinds.Check => new NodeTaskFinish(NodeTaskStates.Succeeded, 0, null,
                    $"node agent {options.Name} on {Environment.MachineName} serves {task.Target}"),
                NodeTaskKinds.Upload => await UploadAsync(task, download, ct),
                NodeTaskKinds.Run => await RunScriptAsync(task, ct, stop ?? Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => "", TaskScheduler.Default)),
                _ => new NodeTaskFinish(NodeTaskStates.Failed, null, $"task kind '{task.Kind}' is not known to this node agent (upgrade it)", null),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or HttpRequestException)
        {
            return new NodeTaskFinish(NodeTaskStates.Failed, null, e.Message, null);
        }
    }

    /// <summary>Writes the file beside its destination, then renames it in place: a reader never sees half a file. Creates no folders (as over SSH).</summary>
    private static async Task<NodeTaskFinish> UploadAsync(NodeTask task, Func<CancellationToken, Task<Stream>> download, CancellationToken ct)
    {
        var to = task.To ?? throw new ArgumentException("an upload task needs a destination");
        if (to.EndsWith('/')) to += task.FileName ?? throw new ArgumentException("an upload to a folder needs the file's name");
        if (!Path.IsPathFullyQualified(to) || to.Contains('\0') || to.Contains('\n'))
            throw new ArgumentException($"'{to}' is not an absolute file path");
        var folder = Path.GetDirectoryName(to)!;
        if (!Directory.Exists(folder)) throw new IOException($"the folder {folder} does not exist on this host");
        var partial = Path.Combine(folder, $".{Path.GetFileName(to)}.slipway-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        long size;
        try
        {
            await using (var source = await download(ct))
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await source.CopyToAsync(file, ct);
                size = file.Length;
            }
            File.Move(partial, to, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
        return new NodeTaskFinish(NodeTaskStates.Succeeded, 0, null, $"wrote {to} ({size} bytes) in {clock.ElapsedMilliseconds} ms");
    }

    private async Task<NodeTaskFinish> RunScriptAsync(NodeTask task, CancellationToken ct, Task<string> stop)
    {
        var psi = new ProcessStartInfo("/bin/bash")
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home && Directory.Exists(home) ? home : "/",
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(task.Script ?? throw new ArgumentException("a run task needs a script"));
        // The agent's own settings (server URL, registration token, work folder) are not the step's business.
        foreach (var name in psi.Environment.Keys.Where(k => k.StartsWith("SLIPWAY_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(name);
        foreach (var (name, value) in task.Variables)
        {
            if (!name.StartsWith("SLIPWAY_", StringComparison.Ordinal) || value.Contains('\0'))
                throw new ArgumentException($"variable '{name}' is not a SLIPWAY_* value a step may get");
            psi.Environment[name] = value;
        }
        var output = new StringBuilder();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        process.StandardInput.Close();
        async Task PumpAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
                lock (output)
                {
                    output.Append(line).Append('\n');
                    if (output.Length > 2 * MaxOutputChars) output.Remove(0, output.Length - MaxOutputChars);
                }
        }
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, task.TimeoutSeconds)));
        string? stoppedBecause = null;
        _ = stop.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully && t.Result.Length > 0) { stoppedBecause = t.Result; try { limit.Cancel(); } catch (ObjectDisposedException) { } }
        }, TaskScheduler.Default);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
            return new NodeTaskFinish(NodeTaskStates.Failed, null,
                stoppedBecause is { } why ? $"the script was stopped: {why}"
                : ct.IsCancellationRequested ? "the node agent is stopping; the script was stopped" : $"the script ran longer than {task.TimeoutSeconds}s and was stopped",
                Tail(output));
        }
        // A service the script started in the background may keep the pipes open: do not wait for it.
        await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
        var exit = process.ExitCode;
        return new NodeTaskFinish(exit == 0 ? NodeTaskStates.Succeeded : NodeTaskStates.Failed, exit,
            exit == 0 ? null : $"the script exited with code {exit}", Tail(output));
    }

    private static string Tail(StringBuilder output)
    {
        lock (output) return output.Length <= MaxOutputChars ? output.ToString() : output.ToString(output.Length - MaxOutputChars, MaxOutputChars);
    }
}
