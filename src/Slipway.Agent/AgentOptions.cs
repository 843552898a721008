using Slipway.Agent.Sandbox;

namespace Slipway.Agent;

/// <summary>
/// Settings of one agent process, each with its environment variable (flags override). Documented in
/// docs/operations.md.
/// </summary>
public sealed class AgentOptions
{
    /// <summary>SLIPWAY_SERVER: the server's base URL.</summary>
    public string ServerUrl { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_SERVER") ?? "http://127.0.0.1:5080";

    /// <summary>SLIPWAY_AGENT_TOKEN: registration token; needed only until the agent has its own credential.</summary>
    public string? RegistrationToken { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_TOKEN");

    /// <summary>SLIPWAY_AGENT_NAME: unique name. Default: the host name.</summary>
    public string Name { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_NAME") ?? Environment.MachineName;

    /// <summary>SLIPWAY_AGENT_POOL: the pool whose jobs this agent takes. Default build.</summary>
    public string Pool { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_POOL") ?? "build";

    /// <summary>SLIPWAY_AGENT_LABELS: comma-separated labels; a job runs only where all its labels are present.</summary>
    public IReadOnlyList<string> Labels { get; set; } =
        (Environment.GetEnvironmentVariable("SLIPWAY_AGENT_LABELS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// SLIPWAY_AGENT_TARGET: PROJECT/ENV/NAME makes this a node agent: it runs on that deployment target and carries out the
    /// target's rollout steps locally (no SSH), and takes no pool jobs. The target must name this agent (target add --node-agent).
    /// </summary>
    public string? Target { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_TARGET") is { Length: > 0 } t ? t : null;

    /// <summary>SLIPWAY_AGENT_WORK: folder for workspaces, the source cache and the credential file. Default ./slipway-agent</summary>
    public string WorkDirectory { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_WORK") ?? "slipway-agent";

    /// <summary>SLIPWAY_AGENT_SLOTS: jobs run at once. Default: the number of cores.</summary>
    public int Slots { get; set; } = int.TryParse(Environment.GetEnvironmentVariable("SLIPWAY_AGENT_SLOTS"), out var s) ? s : Environment.ProcessorCount;

    /// <summary>
    /// SLIPWAY_AGENT_SANDBOX (bwrap|none): how jobs are isolated (ADR 0006). Default bwrap: each job in a bubblewrap
    /// sandbox that sees its own workspace and the machine read-only, never the agent's work folder, other jobs, home
    /// folders or the hidden folders. none: jobs run with everything the agent's user can reach.
    /// </summary>
    public SandboxMode Sandbox { get; set; } = ParseSandbox(Environment.GetEnvironmentVariable("SLIPWAY_AGENT_SANDBOX"));

    /// <summary>SLIPWAY_AGENT_SANDBOX_USER: the unprivileged account jobs run as when the agent runs as root. Default nobody.</summary>
    public string SandboxUser { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_SANDBOX_USER") is { Length: > 0 } u ? u : "nobody";

    /// <summary>
    /// SLIPWAY_AGENT_SANDBOX_HIDE: further folders jobs must not see, ':'-separated (e.g. a Slipway server's data folder on
    /// the same machine; the embedded agent hides its server's by itself).
    /// </summary>
    public IReadOnlyList<string> SandboxHide { get; set; } = PathList("SLIPWAY_AGENT_SANDBOX_HIDE");

    /// <summary>
    /// SLIPWAY_AGENT_SANDBOX_SHARE: folders every job may read and write, ':'-separated (a build cache shared between
    /// jobs). Anything in them is open to every branch's jobs: never a folder holding secrets or another folder's data.
    /// </summary>
    public IReadOnlyList<string> SandboxShare { get; set; } = PathList("SLIPWAY_AGENT_SANDBOX_SHARE");

    /// <summary>A ':'-separated list of folders from an environment variable.</summary>
    public static IReadOnlyList<string> PathList(string variable) =>
        (Environment.GetEnvironmentVariable(variable) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// True for the agent embedded in a server: it shares the server's process and machine, so nothing that runs outside
    /// the job sandbox on the deploy agent (an Ansible controller, a script balancer's commands) may run on it.
    /// </summary>
    public bool InsideServer { get; set; }

    /// <summary>Called once the agent holds its own credential (the embedded agent revokes its one-time token then).</summary>
    public Func<Task>? Registered { get; set; }

    /// <summary>How long one poll is held by the server when there is no work.</summary>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Wait after a failed call before trying again (server down, not yet approved).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Grace between SIGTERM and SIGKILL when a job is cancelled or times out.</summary>
    public TimeSpan KillGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest batch of log bytes sent in one call, and the most buffered before the job is slowed.</summary>
    public int LogBatchBytes { get; set; } = 1 << 20;
    public int LogBufferBytes { get; set; } = 8 << 20;

    /// <summary>bwrap or none; anything else is refused rather than silently running jobs unsandboxed.</summary>
    public static SandboxMode ParseSandbox(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "bwrap" or "bubblewrap" => SandboxMode.Bubblewrap,
        "none" => SandboxMode.None,
        _ => throw new ArgumentException($"'{value}' is not a sandbox mode: use bwrap (the default) or none"),
    };
}
