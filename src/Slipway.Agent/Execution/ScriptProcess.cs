using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;

namespace Slipway.Agent.Execution;

/// <summary>
/// A job's script running as <c>bash -eo pipefail SCRIPT</c> in its own session and process group, with stderr
/// joined to stdout and SIGPIPE at its default action (the .NET runtime ignores it, and children would inherit
/// that). Killing the group reaches every process the script started, including background ones, so cancel and
/// timeout leave nothing behind. The script is a file passed as an argument; nothing user-supplied is put into
/// shell text. Started with one <c>posix_spawn</c> of bash (<see cref="PosixSpawn"/>) rather than
/// <c>setsid env bash</c> through <see cref="Process"/>: two execs fewer per job, the largest cost of a short job.
/// The child is reaped by a dedicated thread blocked in <c>waitpid</c>: the runtime's own SIGCHLD handling reaps
/// only the children <see cref="Process"/> started, except when the agent is PID 1 (a container without an init),
/// where it reaps every child and would take the job's exit status; there jobs go through <see cref="Process"/>.
/// </summary>
public sealed partial class ScriptProcess : IDisposable
{
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    private const string Bash = "/bin/bash";
    // Fixed text run by `bash -eo pipefail -c`: joins stderr to stdout, then reads the script file (its path is $0)
    // in the same shell, so one bash process runs the job and error messages name the script's own lines.
    private const string Launcher = "exec 2>&1; . \"$0\"";
    private readonly int _pid;
    private readonly Task<int> _exit;
    private readonly Process? _process;

    private ScriptProcess(int pid, Stream output, Task<int> exit, Process? process)
    {
        _pid = pid;
        Output = output;
        _exit = exit;
        _process = process;
    }

    public int Id => _pid;
    public Stream Output { get; }

    public static ScriptProcess Start(string scriptPath, string workingDirectory, IReadOnlyDictionary<string, string> environment) =>
        Environment.ProcessId == 1 ? StartThroughProcess(scriptPath, workingDirectory, environment) : Spawn(scriptPath, workingDirectory, environment);

    private static ScriptProcess Spawn(string scriptPath, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        // stdin: a pipe closed at once, so a job reading it sees end-of-file; stdout: a pipe the agent reads.
        var stdin = PosixSpawn.Pipe();
        (int Read, int Write) stdout;
        try { stdout = PosixSpawn.Pipe(); }
        catch { PosixSpawn.Close(stdin.Read); PosixSpawn.Close(stdin.Write); throw; }
        PosixSpawn.Close(stdin.Write);
        int pid;
        try
        {
            pid = PosixSpawn.Spawn(Bash, ["-eo", "pipefail", "-c", Launcher, scriptPath], environment, workingDirectory, stdin.Read, stdout.Write);
        }
        catch
        {
            PosixSpawn.Close(stdout.Read);
            throw;
        }
        finally
        {
            // The child holds its own copies; ours would keep the output pipe open after the job ends.
            PosixSpawn.Close(stdin.Read);
            PosixSpawn.Close(stdout.Write);
        }
        var output = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stdout.Read, ownsHandle: true));
        return new ScriptProcess(pid, output, ReapOnThread(pid), process: null);
    }

    private static Task<int> ReapOnThread(int pid)
    {
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reaper = new Thread(() =>
        {
            try { exit.SetResult(PosixSpawn.WaitForExit(pid)); }
            catch (Exception e) { exit.SetException(e); }
        }, maxStackSize: 256 * 1024) { IsBackground = true, Name = $"job process {pid}" };
        reaper.Start();
        return exit.Task;
    }

    /// <summary>The same job started through <see cref="Process"/>: setsid (new session), env (SIGPIPE default), bash.</summary>
    private static ScriptProcess StartThroughProcess(string scriptPath, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "/usr/bin/env", "--default-signal=PIPE", Bash, "-eo", "pipefail", "-c", Launcher, scriptPath })
            psi.ArgumentList.Add(arg);
        psi.Environment.Clear();
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        process.StandardInput.Close();
        return new ScriptProcess(process.Id, process.StandardOutput.BaseStream, ExitCodeAsync(process), process);
    }

    private static async Task<int> ExitCodeAsync(Process process)
    {
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>The script's exit code (128 + signal when a signal ended it).</summary>
    public Task<int> WaitForExitAsync(CancellationToken ct) => _exit.WaitAsync(ct);

    /// <summary>SIGTERM to the whole group, then SIGKILL after <paramref name="grace"/> if it is still alive.</summary>
    public async Task StopGroupAsync(TimeSpan grace)
    {
        Signal(SIGTERM);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && GroupAlive()) await Task.Delay(50);
        KillGroup();
    }

    /// <summary>SIGKILL to every process left in the group (also after a normal exit: background leftovers).</summary>
    public void KillGroup()
    {
        Signal(SIGKILL);
        if (_exit.IsCompleted) return;
        // Also what left the group while the script still runs (a setsid'd child of it).
        try { using var script = Process.GetProcessById(_pid); script.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    private void Signal(int signal) => _ = kill(-_pid, signal);

    private bool GroupAlive() => kill(-_pid, 0) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public void Dispose()
    {
        Output.Dispose();
        _process?.Dispose();
    }
}
