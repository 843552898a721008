namespace Slipway.Server.Hosting;

/// <summary>
/// Every setting, timeout and limit of the server in one place, each with its default and the environment
/// variable that overrides it (command-line flags override both). Documented in docs/operations.md.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>SLIPWAY_DATA: folder for the SQLite database, mirrors, logs, artifacts, secrets. Default ./.slipway</summary>
    public string DataDirectory { get; set; } = Env("SLIPWAY_DATA") ?? ".slipway";

    /// <summary>SLIPWAY_URLS: where Kestrel listens. Default http://127.0.0.1:5080</summary>
    public string Urls { get; set; } = Env("SLIPWAY_URLS") ?? "http://127.0.0.1:5080";

    /// <summary>SLIPWAY_DATABASE: a PostgreSQL connection string; empty means SQLite in the data folder.</summary>
    public string? Database { get; set; } = Env("SLIPWAY_DATABASE");

    /// <summary>
    /// SLIPWAY_BLOBS: where artifacts, release files and archived logs are kept. Empty: the data folder itself (its
    /// artifacts/ and logs/ folders, the single-node default). An absolute directory: kept there instead (for several
    /// nodes, one directory they all mount). s3://bucket/prefix: an S3-compatible object store shared by every server node
    /// (see <see cref="Blobs.BlobStores"/> for its endpoint and credentials).
    /// </summary>
    public string? Blobs { get; set; } = Env("SLIPWAY_BLOBS");

    /// <summary>
    /// SLIPWAY_HOSTED_DIR: where the repositories Slipway hosts live. Default DATA/hosted. With several server nodes, a
    /// directory every node mounts (NFS or similar): pushes and merges into one repository are serialised by a database lock.
    /// </summary>
    public string? HostedDirectory { get; set; } = Env("SLIPWAY_HOSTED_DIR");

    /// <summary>
    /// SLIPWAY_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: the S3-compatible server's URL
    /// (http://127.0.0.1:9000). None: AWS's own endpoint for <see cref="S3Region"/>.
    /// </summary>
    public string? S3Endpoint { get; set; } = Env("SLIPWAY_S3_ENDPOINT") ?? Env("AWS_ENDPOINT_URL_S3") ?? Env("AWS_ENDPOINT_URL");

    /// <summary>SLIPWAY_S3_REGION, else AWS_REGION: the region requests are signed for. Default us-east-1.</summary>
    public string S3Region { get; set; } = Env("SLIPWAY_S3_REGION") ?? Env("AWS_REGION") ?? "us-east-1";

    /// <summary>AWS_ACCESS_KEY_ID: with <see cref="S3SecretKey"/>, the S3 credentials; when unset, the SDK's default chain (profile, role).</summary>
    public string? S3AccessKey { get; set; } = Env("AWS_ACCESS_KEY_ID");

    /// <summary>AWS_SECRET_ACCESS_KEY: never logged nor shown.</summary>
    public string? S3SecretKey { get; set; } = Env("AWS_SECRET_ACCESS_KEY");

    /// <summary>AWS_SESSION_TOKEN: for temporary credentials; never logged nor shown.</summary>
    public string? S3SessionToken { get; set; } = Env("AWS_SESSION_TOKEN");

    /// <summary>SLIPWAY_S3_TIMEOUT_SECONDS: how long one request to the object store may take before it counts as failed (the SDK
    /// then retries it, so a server that never answers fails a call after about three times this), and how long a download's body
    /// may bring no bytes. 1-3600, default 60 s: room for a 16 MiB upload on a slow link.</summary>
    public TimeSpan S3RequestTimeout { get; set; } = TimeSpan.FromSeconds(Math.Clamp(Int("SLIPWAY_S3_TIMEOUT_SECONDS") ?? 60, 1, 3600));

    /// <summary>SLIPWAY_S3_PATH_STYLE (true|false): bucket in the path, not the host name, as S3-compatible servers need. Default true.</summary>
    public bool S3PathStyle { get; set; } = Env("SLIPWAY_S3_PATH_STYLE") is not "false";

    /// <summary>SLIPWAY_EMBEDDED_AGENT (true|false): run one agent in the server process. Default true.</summary>
    public bool EmbeddedAgent { get; set; } = Env("SLIPWAY_EMBEDDED_AGENT") is not "false";

    /// <summary>
    /// SLIPWAY_AGENT_SANDBOX (bwrap|none): how the embedded agent isolates jobs (ADR 0006). Default bwrap: a job never
    /// sees the data folder (database, key ring, hosted repositories, the admin token file) or other jobs. The server
    /// refuses to start with the embedded agent when the sandbox cannot be used, rather than run branch code beside its data.
    /// </summary>
    public Slipway.Agent.Sandbox.SandboxMode AgentSandbox { get; set; } = Slipway.Agent.AgentOptions.ParseSandbox(Env("SLIPWAY_AGENT_SANDBOX"));

    /// <summary>SLIPWAY_AGENT_SLOTS: job slots of the embedded agent. Default: the number of cores.</summary>
    public int EmbeddedAgentSlots { get; set; } = Int("SLIPWAY_AGENT_SLOTS") ?? Environment.ProcessorCount;

    /// <summary>SLIPWAY_POLL_SECONDS: how often every project's repository is fetched. Default 10.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(Int("SLIPWAY_POLL_SECONDS") ?? 10);

    /// <summary>
    /// SLIPWAY_IDLE_TRIM (on|off): whether the node gives its spare GC memory back to the OS when quiet
    /// (<see cref="IdleMemoryTrimmer"/>). Default on; off in the tests' in-process servers, which share one GC.
    /// </summary>
    public bool IdleTrim { get; set; } = !string.Equals(Env("SLIPWAY_IDLE_TRIM"), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>How often the idle memory trimmer looks at the heap (<see cref="IdleMemoryTrimmer"/>). Default 500 ms.</summary>
    public TimeSpan IdleTrimCheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often jobs whose lease ran out are resolved (<see cref="LeaseSweeper"/>). Default 1 s.</summary>
    public TimeSpan LeaseSweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often change requests set to merge by themselves are looked at (<see cref="AutoMerger"/>). Default 1 s.</summary>
    public TimeSpan AutoMergeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often deployments are moved along (<see cref="DeploymentConductor"/>). Default 0.5 s.</summary>
    public TimeSpan ConductorInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the logs of ended jobs are moved from the database into the blob store (<see cref="LogArchiver"/>). Default 5 s.</summary>
    public TimeSpan LogArchiveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an ended job's log must have been quiet before it is archived. Default 10 s.</summary>
    public TimeSpan LogArchiveQuiet { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a claimed deployment may stay without a run before it is taken for orphaned by a crash. Default 1 min.</summary>
    public TimeSpan DeploymentOrphanAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often succeeded release-branch runs are turned into releases (<see cref="ReleaseCreator"/>). Default 0.5 s.</summary>
    public TimeSpan ReleaseCreatorInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>SLIPWAY_LIVE_CHECK_SECONDS: how often live checks are looked at; each runs on its own schedule (<see cref="LiveCheckRunner"/>). Default 5.</summary>
    public TimeSpan LiveCheckInterval { get; set; } = TimeSpan.FromSeconds(Int("SLIPWAY_LIVE_CHECK_SECONDS") ?? 5);

    /// <summary>How long a script check's run may wait for an agent of its pool on top of the check's own timeout. Default 60 s.</summary>
    public TimeSpan ScriptCheckAgentWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the demo story waits for a run it started (a branch's, a release's) before it gives up; the next start resumes. Default 10 min.</summary>
    public TimeSpan DemoStepWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The wait before an alert's first retry; each further retry waits twice as long (<see cref="AlertSender"/>). Default 2 s.</summary>
    public TimeSpan AlertRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>SLIPWAY_ALERT_ATTEMPTS: deliveries tried per alert and webhook before it is given up (logged). Default 6 (about a minute of retries).</summary>
    public int AlertAttempts { get; set; } = Math.Max(1, Int("SLIPWAY_ALERT_ATTEMPTS") ?? 6);

    /// <summary>Alert deliveries waiting in the database (one per alert and webhook); beyond it the oldest are dropped with a warning. Default 1000.</summary>
    public int AlertQueueCapacity { get; set; } = 1000;

    /// <summary>SLIPWAY_LEASE_SECONDS: a job's lease; an agent that does not renew loses the job after it. Default 30.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(Int("SLIPWAY_LEASE_SECONDS") ?? 30);

    /// <summary>SLIPWAY_POLL_WAIT_SECONDS: how long an agent's poll is held open when there is no work. Default 25.</summary>
    public TimeSpan AgentPollWait { get; set; } = TimeSpan.FromSeconds(Int("SLIPWAY_POLL_WAIT_SECONDS") ?? 25);

    /// <summary>SLIPWAY_LOG_LIMIT_MB: a job's log is truncated past this size (the job runs on). Default 100.</summary>
    public long LogLimitBytes { get; set; } = (Int("SLIPWAY_LOG_LIMIT_MB") ?? 100) * 1024L * 1024L;

    /// <summary>SLIPWAY_ARTIFACT_LIMIT_MB: largest single artifact accepted. Default 1024.</summary>
    public long ArtifactLimitBytes { get; set; } = (Int("SLIPWAY_ARTIFACT_LIMIT_MB") ?? 1024) * 1024L * 1024L;

    /// <summary>SLIPWAY_GIT_TIMEOUT_SECONDS: limit for one git command (clone, fetch). Default 300.</summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromSeconds(Int("SLIPWAY_GIT_TIMEOUT_SECONDS") ?? 300);

    /// <summary>SLIPWAY_BOOTSTRAP_TOKEN: on first start, the admin's API token (for automation) instead of a random one.</summary>
    public string? BootstrapToken { get; set; } = Env("SLIPWAY_BOOTSTRAP_TOKEN");

    /// <summary>SLIPWAY_SESSION_HOURS: a web session's lifetime from sign-in. Default 12.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(Int("SLIPWAY_SESSION_HOURS") ?? 12);

    /// <summary>SLIPWAY_TOKEN_DAYS: default lifetime of a new API token (at most 365 days may be asked for). Default 90.</summary>
    public int DefaultTokenDays { get; set; } = Int("SLIPWAY_TOKEN_DAYS") ?? 90;

    /// <summary>
    /// How many later releases carrying a work item its timeline tells one by one before folding the rest into one event
    /// (<see cref="Core.WorkItems.LaterReleases"/>). Not an operator setting: the tests lower it to see the fold.
    /// </summary>
    public int TimelineLaterReleases { get; set; } = Core.WorkItems.LaterReleases.Told;

    /// <summary>SLIPWAY_SIGNIN_ACCOUNT_LIMIT: failed sign-ins per account within 15 minutes before it is throttled. Default 5.</summary>
    public int SignInFailuresPerAccount { get; set; } = Int("SLIPWAY_SIGNIN_ACCOUNT_LIMIT") ?? 5;

    /// <summary>SLIPWAY_SIGNIN_ADDRESS_LIMIT: failed sign-ins per source address within 15 minutes before it is throttled. Default 20.</summary>
    public int SignInFailuresPerAddress { get; set; } = Int("SLIPWAY_SIGNIN_ADDRESS_LIMIT") ?? 20;

    /// <summary>
    /// SLIPWAY_TRUSTED_PROXIES: comma-separated addresses of reverse proxies whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed (client address for the audit log and throttling; HTTPS for Secure cookies).
    /// Default: none, the headers are ignored.
    /// </summary>
    public string? TrustedProxies { get; set; } = Env("SLIPWAY_TRUSTED_PROXIES");

    /// <summary>
    /// SLIPWAY_AUDIT_DENIAL_WINDOW_SECONDS: refused agent heartbeats (poll, renew, log) of one credential are written to the
    /// audit log at most once per this window, with a count of the refusals folded in. Default 60.
    /// </summary>
    public TimeSpan AuditDenialWindow { get; set; } = TimeSpan.FromSeconds(Math.Max(1, Int("SLIPWAY_AUDIT_DENIAL_WINDOW_SECONDS") ?? 60));

    /// <summary>
    /// SLIPWAY_NODE_NAME: this server node's name among the nodes sharing one database ([A-Za-z0-9._-], 1-55), the holder of
    /// its duty leases. Must be unique per node. Default: the machine's host name.
    /// </summary>
    public string NodeName { get; set; } = Env("SLIPWAY_NODE_NAME") ?? DefaultNodeName();

    /// <summary>
    /// SLIPWAY_DUTY_LEASE_SECONDS: a duty's lease (git polling, lease sweeping, release creation, deployment conducting,
    /// auto-merging, live checks run on one node at a time). A node that stops renewing loses its duties after it, and
    /// another node takes them over. Default 15.
    /// </summary>
    public TimeSpan DutyLeaseTime { get; set; } = TimeSpan.FromSeconds(Math.Max(1, Int("SLIPWAY_DUTY_LEASE_SECONDS") ?? 15));

    /// <summary>How often a node writes its heartbeat (and learns whether it is to drain); three missed ones show it as lost. Default 5 s.</summary>
    public TimeSpan NodeHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Create the demo project on start (the README's first command sets it).</summary>
    public bool Demo { get; set; }

    /// <summary>Work folder of the embedded agent. Default DATA/agent.</summary>
    public string EmbeddedAgentWorkDirectory => Path.Combine(FullDataDirectory, "agent");

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);

    public string FullHostedDirectory => Path.GetFullPath(HostedDirectory ?? Path.Combine(FullDataDirectory, "hosted"));

    /// <summary>The host name cut to a valid node name (a host name may be longer, or carry characters a node name may not).</summary>
    private static string DefaultNodeName() => Core.Nodes.NodeNames.FromHostName(Environment.MachineName);

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
    private static int? Int(string name) => int.TryParse(Env(name), out var v) ? v : null;
}
