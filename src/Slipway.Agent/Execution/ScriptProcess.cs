using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;

namespace Slipway.Agent.Execution;

/// <summary>
/// A job's script running as <c>bash -eo pipefail SCRIPT</c> (in the agent's sandbox, <see cref="Sandbox.JobSandbox"/>)
/// in its own session and process group, with stderr joined to stdout and SIGPIPE at its default action (the .NET
/// runtime ignores it, and children would inherit that). Killing the group reaches every process the script started,
/// including background ones, so cancel and timeout leave nothing behind; in a sandbox, the end of bubblewrap ends its
/// process namespace and with it every process of the job, even one that left the group. The script is a file passed as an argument; nothing user-supplied is put into
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
    private readonly bool _sandboxed;

    private ScriptProcess(int pid, Stream output, Task<int> exit, Process? process, bool sandboxed)
    {
        _pid = pid;
        Output = output;
        _exit = exit;
        _process = process;
        _sandboxed = sandboxed;
    }

    public int Id => _pid;
    public Stream Output { get; }

    /// <summary>
    /// Starts the job: <c>PROGRAM ARGS... /bin/bash -eo pipefail -c LAUNCHER SCRIPT</c>, where <paramref name="program"/> and
    /// <paramref name="arguments"/> are the sandbox's prefix (<see cref="Sandbox.JobSandbox.Wrap"/>), or bash itself with
    /// no prefix when <paramref name="sandboxed"/> is false.
    /// </summary>
    /// <remarks>
    /// The process is started, and waited for, by a thread of its own that lives exactly as long as the job: bubblewrap
    /// ties the sandbox's life to its parent *thread* (PR_SET_PDEATHSIG), and a thread-pool thread that started it could
    /// retire mid-job and take the sandbox with it.
    /// </remarks>
    public static ScriptProcess Start(string program, IReadOnlyList<string> arguments, string scriptPath, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, bool sandboxed)
    {
        var argv = new List<string>(arguments);
        if (!sandboxed) argv.Clear();
        argv.AddRange(["-eo", "pipefail", "-c", Launcher, scriptPath]);
        var started = new TaskCompletionSource<ScriptProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            if (Environment.ProcessId == 1) StartThroughProcess(sandboxed ? program : Bash, argv, workingDirectory, environment, sandboxed, started);
            else Spawn(sandboxed ? program : Bash, argv, workingDirectory, environment, sandboxed, started);
        }, maxStackSize: 256 * 1024) { IsBackground = true, Name = "job process" };
        thread.Start();
        return started.Task.GetAwaiter().GetResult();
    }

    /// <summary>On the job's own thread: spawns, hands the process over, then blocks in <c>waitpid</c> until it ends.</summary>
    private static void Spawn(string program, IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        bool sandboxed, TaskCompletionSource<ScriptProcess> started)
    {
        int pid;
        Stream output;
        try
        {
            // stdin: a pipe closed at once, so a job reading it sees end-of-file; stdout and stderr: one pipe the agent
            // reads (bubblewrap's own errors then reach the job's log too).
            var stdin = PosixSpawn.Pipe();
            (int Read, int Write) stdout;
            try { stdout = PosixSpawn.Pipe(); }
            catch { PosixSpawn.Close(stdin.Read); PosixSpawn.Close(stdin.Write); throw; }
            PosixSpawn.Close(stdin.Write);
            try { pid = PosixSpawn.Spawn(program, argv, environment, workingDirectory, stdin.Read, stdout.Write); }
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
            output = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stdout.Read, ownsHandle: true));
        }
        catch (Exception e)
        {
            started.SetException(e);
            return;
        }
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        started.SetResult(new ScriptProcess(pid, output, exit.Task, process: null, sandboxed));
        try { exit.SetResult(PosixSpawn.WaitForExit(pid)); }
        catch (Exception e) { exit.SetException(e); }
    }

    /// <summary>
    /// The same job started through <see cref="Process"/> (when the agent is PID 1 and the runtime reaps every child):
    /// setsid (new session), env (SIGPIPE default), then the program; also on, and waited for by, the job's own thread.
    /// </summary>
    private static void StartThroughProcess(string program, IReadOnlyList<string> argv, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, bool sandboxed, TaskCompletionSource<ScriptProcess> started)
    {
        Process process;
        try
        {
            var psi = new ProcessStartInfo(File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid")
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "/usr/bin/env", "--default-signal=PIPE", program }.Concat(argv)) psi.ArgumentList.Add(arg);
            psi.Environment.Clear();
            foreach (var (k, v) in environment) psi.Environment[k] = v;
            process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
            process.StandardInput.Close();
        }
        catch (Exception e)
        {
            started.SetException(e);
            return;
        }
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        started.SetResult(new ScriptProcess(process.Id, process.StandardOutput.BaseStream, exit.Task, process, sandboxed));
        try
        {
            process.WaitForExit();
            exit.SetResult(process.ExitCode);
        }
        catch (Exception e) { exit.SetException(e); }
    }

    /// <summary>The script's exit code (128 + signal when a signal ended it).</summary>
    public Task<int> WaitForExitAsync(CancellationToken ct) => _exit.WaitAsync(ct);

    /// <summary>
    /// SIGTERM to the job's processes, then SIGKILL to the group after <paramref name="grace"/> if any is still alive. In
    /// a sandbox the SIGTERM goes to the group's members except bubblewrap's own two processes: bubblewrap ends on
    /// SIGTERM and its end kills the whole namespace at once, which would leave the script no grace to clean up.
    /// </summary>
    public async Task StopGroupAsync(TimeSpan grace)
    {
        if (_sandboxed) foreach (var pid in JobMembers()) _ = kill(pid, SIGTERM);
        else Signal(SIGTERM);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && (_sandboxed ? JobMembers().Count > 0 : GroupAlive())) await Task.Delay(50);
        KillGroup();
    }

    /// <summary>The group's processes other than bubblewrap (the group leader) and its namespace's init (its child).</summary>
    private List<int> JobMembers()
    {
        var members = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == _pid) continue;
            try
            {
                // Fields after the command name in /proc/PID/stat: state, ppid, pgrp.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 2 && fields[0] != "Z" && fields[2] == _pid.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    && fields[1] != _pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    members.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // gone meanwhile
        }
        return members;
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
