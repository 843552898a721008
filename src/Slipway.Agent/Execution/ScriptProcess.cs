using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Slipway.Agent.Execution;

/// <summary>
/// A job's script running as <c>bash -eo pipefail SCRIPT</c> in its own session and process group
/// (via setsid), with stderr joined to stdout. Killing the group reaches every process the script
/// started, including background ones, so cancel and timeout leave nothing behind.
/// The script is a file passed as an argument; nothing user-supplied is put into shell text.
/// </summary>
public sealed partial class ScriptProcess : IDisposable
{
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    // Fixed text run by `bash -eo pipefail -c`: joins stderr to stdout, then reads the script file (its path is $0)
    // in the same shell, so one bash process runs the job and error messages name the script's own lines.
    private const string Launcher = "exec 2>&1; . \"$0\"";
    private readonly Process _process;

    private ScriptProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public Stream Output => _process.StandardOutput.BaseStream;

    public static ScriptProcess Start(string scriptPath, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        // The .NET runtime ignores SIGPIPE and children inherit that, so `producer | head` would behave unlike a
        // normal shell; env restores the default before bash starts (bash cannot reset an inherited ignore).
        foreach (var arg in new[] { "/usr/bin/env", "--default-signal=PIPE", "/bin/bash", "-eo", "pipefail", "-c", Launcher, scriptPath })
            psi.ArgumentList.Add(arg);
        psi.Environment.Clear();
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash");
        process.StandardInput.Close();
        return new ScriptProcess(process);
    }

    public async Task<int> WaitForExitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        return _process.ExitCode;
    }

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
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    private void Signal(int signal) => _ = kill(-_process.Id, signal);

    private bool GroupAlive() => kill(-_process.Id, 0) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public void Dispose() => _process.Dispose();
}
