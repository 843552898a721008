using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Slipway.Agent.Execution;

/// <summary>
/// Job scripts run in their own session (<see cref="ScriptProcess"/>), so they outlive an agent that was killed (or a
/// server killed under its embedded agent). The server has by then resolved those jobs (agent lost), so a deploy
/// script still running would interleave with the next deployment. At start, before any slot runs, the agent kills
/// the process group of every script of its own work directory: a session leader whose command line names a
/// script under <c>WORK/jobs/</c>. Linux only (<c>/proc</c>); elsewhere it does nothing.
/// </summary>
public static partial class LeftoverJobs
{
    private const int SIGKILL = 9;

    public static int KillUnder(string jobsDirectory, ILogger log)
    {
        if (!Directory.Exists("/proc")) return 0;
        var marker = Path.GetFullPath(jobsDirectory).TrimEnd('/') + "/";
        var killed = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                if (!commandLine.Contains(marker, StringComparison.Ordinal) || !IsSessionLeader(pid)) continue;
                if (kill(-pid, SIGKILL) == 0)
                {
                    killed++;
                    log.LogWarning("killed the process group {Pid} of a job script left running by a previous agent: {Command}", pid, commandLine.Trim());
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // gone meanwhile, or not ours
        }
        return killed;
    }

    /// <summary>Whether the process leads its own session (fields after the command name in /proc/PID/stat: state, ppid, pgrp, session).</summary>
    private static bool IsSessionLeader(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 3 && fields[3] == pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
