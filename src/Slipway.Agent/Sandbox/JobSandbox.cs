using Slipway.Agent.Execution;

namespace Slipway.Agent.Sandbox;

/// <summary>How an agent isolates the jobs it runs (ADR 0006).</summary>
public enum SandboxMode
{
    /// <summary>Every job in a bubblewrap sandbox (the default): it sees its workspace and a read-only machine, nothing of the server or other jobs.</summary>
    Bubblewrap,
    /// <summary>Jobs run as the agent's user with everything that user can reach. Only for an agent on a machine of its own.</summary>
    None,
}

/// <summary>
/// Applies an agent's sandbox to its jobs: what the job sees (<see cref="BubblewrapArguments"/>), the account it runs as,
/// and the few environment variables that must point inside the sandbox. One instance per agent, safe to share
/// between slots (it holds no per-job state).
/// </summary>
public sealed class JobSandbox
{
    /// <summary>Home folders of people on the machine: CLI tokens (~/.config/slipway), SSH keys, cloud credentials.</summary>
    private static readonly string[] HomeFolders = ["/root", "/home", "/run/user"];

    /// <summary>Container-engine and agent sockets: reaching one of them is root on the machine.</summary>
    private static readonly string[] DangerousSockets =
        ["/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock", "/run/containerd/containerd.sock", "/run/crio/crio.sock"];

    private readonly IReadOnlyList<string> _hidden;
    private readonly IReadOnlyList<string> _masked;
    private readonly IReadOnlyList<string> _shared;

    private JobSandbox(SandboxMode mode, string? bubblewrap, JobAccount? runAs, IReadOnlyList<string> hidden, IReadOnlyList<string> masked,
        IReadOnlyList<string> shared)
    {
        Mode = mode;
        Bubblewrap = bubblewrap;
        RunAs = runAs;
        _hidden = hidden;
        _masked = masked;
        _shared = shared;
    }

    public SandboxMode Mode { get; }

    /// <summary>The bwrap executable; null without a sandbox.</summary>
    public string? Bubblewrap { get; }

    /// <summary>The account jobs run as when the agent is root; null otherwise.</summary>
    public JobAccount? RunAs { get; }

    /// <summary>Folders each job sees empty, existing ones only (absolute, symlinks resolved).</summary>
    public IReadOnlyList<string> Hidden => _hidden;

    /// <summary>
    /// The sandbox for an agent with these options. Throws <see cref="SandboxUnavailableException"/> with what to do when the
    /// sandbox was asked for and cannot be used on this machine (no bwrap, user namespaces refused, no such account).
    /// </summary>
    public static JobSandbox Create(AgentOptions options)
    {
        if (options.Sandbox == SandboxMode.None) return new JobSandbox(SandboxMode.None, null, null, [], [], []);
        var bwrap = FindBubblewrap() ?? throw new SandboxUnavailableException(
            "bubblewrap (bwrap) is not installed; install it with: sudo apt-get install bubblewrap");
        JobAccount? runAs = null;
        if (NativeFiles.IsRoot)
        {
            runAs = Accounts.Find(options.SandboxUser) ?? throw new SandboxUnavailableException(
                $"the agent runs as root, so jobs run as the unprivileged account '{options.SandboxUser}', which does not exist here " +
                "(choose another with SLIPWAY_AGENT_SANDBOX_USER)");
            if (runAs.Uid == 0) throw new SandboxUnavailableException($"the sandbox account '{options.SandboxUser}' is root; choose an unprivileged one");
            if (!File.Exists(BubblewrapArguments.Setpriv)) throw new SandboxUnavailableException("setpriv (util-linux) is missing: it switches root's jobs to an unprivileged account");
        }
        var work = Path.GetFullPath(options.WorkDirectory);
        Directory.CreateDirectory(work);
        var hidden = new List<string>(HomeFolders) { work };
        if (Environment.GetEnvironmentVariable("HOME") is { Length: > 1 } home) hidden.Add(home);
        hidden.AddRange(options.SandboxHide);
        var shared = new List<string>();
        foreach (var folder in options.SandboxShare)
            shared.Add(NativeFiles.RealPathOrNull(folder) is { } real && Directory.Exists(real) ? real
                : throw new SandboxUnavailableException($"the folder '{folder}' to share with jobs (SLIPWAY_AGENT_SANDBOX_SHARE) does not exist"));
        var sandbox = new JobSandbox(SandboxMode.Bubblewrap, bwrap, runAs,
            hidden.Select(NativeFiles.RealPathOrNull).OfType<string>().Where(Directory.Exists).Distinct().ToList(),
            DangerousSockets.Select(NativeFiles.RealPathOrNull).OfType<string>().Where(p => !Directory.Exists(p)).Distinct().ToList(),
            shared.Distinct().ToList());
        try { sandbox.Probe(work); }
        catch (ArgumentException e) { throw new SandboxUnavailableException(e.Message); } // a share that clashes with a hidden folder
        return sandbox;
    }

    /// <summary>Runs a trivial job in the sandbox, so a machine that refuses it fails when the agent starts, not on the first build.</summary>
    private void Probe(string work)
    {
        var probe = Path.Combine(work, "sandbox-probe-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(probe);
        try
        {
            if (RunAs is { } account) NativeFiles.ChownTree(probe, account.Uid, account.Gid);
            var psi = new System.Diagnostics.ProcessStartInfo(Bubblewrap!) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in BubblewrapArguments.For(Layout(probe, probe))) psi.ArgumentList.Add(arg);
            // A script run by its absolute path, as a job's step is: every folder on the way must be searchable by the job's account.
            var script = Path.Combine(probe, "probe.sh");
            File.WriteAllText(script, "touch \"$(dirname \"$0\")/probe\"\n");
            if (RunAs is { } owner) NativeFiles.ChownTree(probe, owner.Uid, owner.Gid);
            foreach (var arg in new[] { "/bin/sh", script }) psi.ArgumentList.Add(arg);
            using var process = System.Diagnostics.Process.Start(psi)!;
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20))) { process.Kill(true); throw new SandboxUnavailableException("bubblewrap did not start a test job within 20 s"); }
            if (process.ExitCode != 0 || !File.Exists(Path.Combine(probe, "probe")))
                throw new SandboxUnavailableException($"bubblewrap cannot start a sandbox here: {error.Result.Trim()} " +
                    (RunAs is { } jobAccount
                        ? $"(every folder above {work} must be searchable by the jobs' account '{jobAccount.Name}' (chmod o+x); see docs/operations.md#job-sandbox)"
                        : "(unprivileged user namespaces may be disabled: see docs/operations.md#job-sandbox)"));
        }
        finally { try { Directory.Delete(probe, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
    }

    private SandboxLayout Layout(string workspace, string workingDirectory) => new(workspace, workingDirectory, _hidden, _masked, RunAs, _shared);

    /// <summary>
    /// Makes the workspace the job's own before it starts: its home folder, and (as root) every file owned by the job's
    /// account. Nothing runs in the workspace yet, so no link in it can be swapped meanwhile; links are never followed.
    /// </summary>
    public void Prepare(Workspace workspace)
    {
        if (Mode == SandboxMode.None) return;
        Directory.CreateDirectory(workspace.Home);
        if (RunAs is { } account) NativeFiles.ChownTree(workspace.Root, account.Uid, account.Gid);
    }

    /// <summary>The program that starts the job's shell, and the arguments before the shell's own.</summary>
    public (string Program, IReadOnlyList<string> Arguments) Wrap(Workspace workspace, string shell) =>
        Mode == SandboxMode.None
            ? (shell, [])
            : (Bubblewrap!, [.. BubblewrapArguments.For(Layout(workspace.Root, workspace.Source)), shell]);

    /// <summary>Variables that must describe the sandbox rather than the agent: the home folder and, as root, the account.</summary>
    public void AdjustEnvironment(IDictionary<string, string> env, Workspace workspace)
    {
        if (Mode == SandboxMode.None) return;
        env["HOME"] = workspace.Home;
        if (RunAs is { } account)
        {
            env["USER"] = account.Name;
            env["LOGNAME"] = account.Name;
        }
    }

    /// <summary>One line for the agent's start-up log.</summary>
    public string Describe() => Mode == SandboxMode.None
        ? "jobs are NOT sandboxed (sandbox none): they can read and change whatever this agent's user can"
        : $"jobs run in a bubblewrap sandbox{(RunAs is { } a ? $" as '{a.Name}'" : "")}; hidden: {string.Join(", ", _hidden)}{(_shared.Count > 0 ? $"; shared read-write: {string.Join(", ", _shared)}" : "")}";

    private static string? FindBubblewrap()
    {
        foreach (var folder in new[] { "/usr/bin", "/bin", "/usr/local/bin" })
            if (File.Exists(Path.Combine(folder, "bwrap"))) return Path.Combine(folder, "bwrap");
        return null;
    }
}

/// <summary>The job sandbox cannot be used here; the message says what to install or set.</summary>
public sealed class SandboxUnavailableException(string message) : InvalidOperationException(message);
