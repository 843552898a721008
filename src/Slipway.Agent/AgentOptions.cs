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

    /// <summary>SLIPWAY_AGENT_WORK: folder for workspaces, the source cache and the credential file. Default ./slipway-agent</summary>
    public string WorkDirectory { get; set; } = Environment.GetEnvironmentVariable("SLIPWAY_AGENT_WORK") ?? "slipway-agent";

    /// <summary>SLIPWAY_AGENT_SLOTS: jobs run at once. Default: the number of cores.</summary>
    public int Slots { get; set; } = int.TryParse(Environment.GetEnvironmentVariable("SLIPWAY_AGENT_SLOTS"), out var s) ? s : Environment.ProcessorCount;

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
}
