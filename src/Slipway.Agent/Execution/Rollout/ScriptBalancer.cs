using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>A script balancer's command failed: a non-zero exit, no end within the timeout, or status output not understood.</summary>
public sealed class ScriptBalancerException(string message) : LoadBalancerException(message);

/// <summary>
/// A load balancer driven by three commands of the environment's configuration (kind <c>script</c>), each run on the deploy
/// agent as <c>/bin/sh -c COMMAND</c>. The command text is the admin's; the target reaches it only as environment variables,
/// never pasted into it:
/// <list type="bullet">
/// <item>the drain command gets SLIPWAY_LB_STATE=<c>drain</c> (stop sending new sessions), later <c>maint</c> (out of rotation);</item>
/// <item>the enable command gets SLIPWAY_LB_STATE=<c>ready</c> (back in rotation);</item>
/// <item>both get SLIPWAY_LB_NAME, SLIPWAY_LB_BACKEND and SLIPWAY_LB_SERVER;</item>
/// <item>the status command gets SLIPWAY_LB_NAME and SLIPWAY_LB_BACKEND and prints one line <c>SERVER STATUS [SESSIONS]</c> per
/// server of the backend, STATUS one of UP, DOWN, MAINT, DRAIN (any case), SESSIONS the current sessions (default 0).</item>
/// </list>
/// A command gets the agent's environment minus its SLIPWAY_* settings, plus those values; standard input is empty and the
/// working directory <c>/</c>. A non-zero exit, a run longer than <see cref="Timeout"/> (the command's process tree is then
/// killed) or status output not understood is a <see cref="ScriptBalancerException"/> carrying the tail of standard error.
/// Stateless and thread-safe: the targets of a batch may run commands at the same time.
/// </summary>
public sealed class ScriptBalancer : ILoadBalancer
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Largest status output read (a backend of a few thousand servers is well below).</summary>
    public const int MaxOutputChars = 1 << 20;

    /// <summary>How much of the end of standard error a failure quotes.</summary>
    public const int ErrorTailChars = 500;

    private static readonly string[] Statuses = ["UP", "DOWN", "MAINT", "DRAIN"];

    public ScriptBalancer(string name, string drainCommand, string enableCommand, string statusCommand, TimeSpan? timeout = null)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        DrainCommand = Required(drainCommand, nameof(drainCommand));
        EnableCommand = Required(enableCommand, nameof(enableCommand));
        StatusCommand = Required(statusCommand, nameof(statusCommand));
        Timeout = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero);
    }

    public string Name { get; }
    public string DrainCommand { get; }
    public string EnableCommand { get; }
    public string StatusCommand { get; }

    /// <summary>Bound of one command's run (start to exit and closed output).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>A command is a process start: waits ask every half second, not ten times a second.</summary>
    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(500);

    private static string Required(string command, string parameter)
    {
        if (string.IsNullOrWhiteSpace(command)) throw new ArgumentException("a script balancer needs its drain, enable and status commands", parameter);
        if (command.Contains('\0')) throw new ArgumentException("a command cannot contain NUL", parameter);
        return command;
    }

    public async Task SetStateAsync(string backend, string server, string state, CancellationToken ct)
    {
        HaproxyRuntime.CheckName(backend, nameof(backend));
        HaproxyRuntime.CheckName(server, nameof(server));
        var (which, command) = state switch
        {
            "drain" or "maint" => ("drain", DrainCommand),
            "ready" => ("enable", EnableCommand),
            _ => throw new ArgumentException($"State '{state}' is not one of ready, drain, maint", nameof(state)),
        };
        await RunAsync($"{which} command (for {backend}/{server}, state {state})", command, new Dictionary<string, string>
        {
            ["SLIPWAY_LB_NAME"] = Name,
            ["SLIPWAY_LB_BACKEND"] = backend,
            ["SLIPWAY_LB_SERVER"] = server,
            ["SLIPWAY_LB_STATE"] = state,
        }, ct);
    }

    public async Task<IReadOnlyList<HaproxyServerStat>> ShowBackendAsync(string backend, CancellationToken ct)
    {
        HaproxyRuntime.CheckName(backend, nameof(backend));
        var what = $"status command (for backend {backend})";
        var output = await RunAsync(what, StatusCommand, new Dictionary<string, string>
        {
            ["SLIPWAY_LB_NAME"] = Name,
            ["SLIPWAY_LB_BACKEND"] = backend,
        }, ct);
        try
        {
            return ParseStatus(backend, output);
        }
        catch (FormatException e)
        {
            throw new ScriptBalancerException($"{what}: output not understood: {e.Message}");
        }
    }

    /// <summary>
    /// Reads the status command's output: one <c>SERVER STATUS [SESSIONS]</c> line per server, blank lines ignored. STATUS is
    /// returned upper-case, so UP counts as in rotation as HAProxy's does.
    /// </summary>
    /// <exception cref="FormatException">A line of another shape (named by its number and text), a server listed twice.</exception>
    public static IReadOnlyList<HaproxyServerStat> ParseStatus(string backend, string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var rows = new List<HaproxyServerStat>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lines = output.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            var sessions = 0;
            var status = fields.Length >= 2 ? fields[1].ToUpperInvariant() : "";
            if (fields.Length is < 2 or > 3 || !Statuses.Contains(status) || !IsName(fields[0])
                || (fields.Length == 3 && !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out sessions)))
                throw new FormatException($"line {i + 1} is not 'SERVER STATUS [SESSIONS]' (STATUS one of UP, DOWN, MAINT, DRAIN; SESSIONS a number): " +
                                          $"'{HaproxyRuntime.Shorten(line.Trim())}'");
            if (!seen.Add(fields[0]))
                throw new FormatException($"line {i + 1} names server '{fields[0]}' a second time");
            rows.Add(new HaproxyServerStat(backend, fields[0], status, sessions));
        }
        return rows;
    }

    private static bool IsName(string name)
    {
        try { HaproxyRuntime.CheckName(name, nameof(name)); return true; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Runs one command to its end within <see cref="Timeout"/>; its standard output when it exits with 0.</summary>
    private async Task<string> RunAsync(string what, string command, IReadOnlyDictionary<string, string> values, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/",
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        // The agent's own settings (server URL, tokens, work folder) are not the balancer's business, nor, on the embedded
        // agent, the server's object-store credentials.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("SLIPWAY_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in values) psi.Environment[key] = value;

        using var process = Process.Start(psi) ?? throw new ScriptBalancerException($"{what}: /bin/sh did not start");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var overflow = false;
        async Task PumpAsync(StreamReader reader, StringBuilder into, bool keepHead)
        {
            var buffer = new char[8192];
            int n;
            while ((n = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
                lock (into)
                {
                    if (keepHead)
                    {
                        if (into.Length + n > MaxOutputChars) { overflow = true; continue; }
                        into.Append(buffer, 0, n);
                    }
                    else
                    {
                        into.Append(buffer, 0, n);
                        if (into.Length > 4 * ErrorTailChars) into.Remove(0, into.Length - 2 * ErrorTailChars);
                    }
                }
        }
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput, stdout, keepHead: true), PumpAsync(process.StandardError, stderr, keepHead: false));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(Timeout);
        try
        {
            // To its end: exited, and its output closed (a process it left running with the pipes open counts as still running).
            await Task.WhenAll(process.WaitForExitAsync(limit.Token), pumps.WaitAsync(limit.Token));
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new ScriptBalancerException($"{what} did not finish within {Timeout.TotalSeconds:0.#} s and was stopped{Tail(stderr)}");
        }
        if (process.ExitCode != 0)
            throw new ScriptBalancerException($"{what} exited with code {process.ExitCode}{Tail(stderr)}");
        if (overflow)
            throw new ScriptBalancerException($"{what} printed more than {MaxOutputChars} characters");
        lock (stdout) return stdout.ToString();
    }

    /// <summary>"; stderr: ..." with the end of standard error on one line, or "" when it printed nothing.</summary>
    private static string Tail(StringBuilder stderr)
    {
        string text;
        lock (stderr) text = stderr.ToString().Trim();
        if (text.Length == 0) return "";
        if (text.Length > ErrorTailChars) text = "..." + text[^ErrorTailChars..];
        return "; stderr: " + string.Join(" | ", text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0));
    }
}
