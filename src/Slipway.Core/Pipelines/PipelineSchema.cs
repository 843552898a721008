namespace Slipway.Core.Pipelines;

/// <summary>
/// The keys each mapping of <c>.slipway.yml</c> accepts. Adding a key (e.g. top-level
/// <c>release</c>/<c>deploy</c>, a job's manual gate) means adding it here and reading it in
/// <see cref="PipelineValidator"/>; unknown-key errors and suggestions follow automatically.
/// </summary>
internal static class PipelineSchema
{
    public static readonly IReadOnlyList<string> TopLevelKeys = ["version", "env", "stages", "release", "deploy"];
    public static readonly IReadOnlyList<string> DeployKeys = ["run", "verify", "rollback", "timeout", "targets", "rolling", "steps", "on_failure", "metrics", "checks"];
    public static readonly IReadOnlyList<string> CheckKeys = ["name", "run"];
    public static readonly IReadOnlyList<string> RollingKeys = ["window", "max_failures"];
    public static readonly IReadOnlyList<string> StepKinds = ["upload", "ssh", "health", "ansible"];
    public static readonly IReadOnlyList<string> AnsibleKeys = ["playbook"];
    public static readonly IReadOnlyList<string> UploadKeys = ["from", "to"];
    public static readonly IReadOnlyList<string> HealthKeys = ["http", "expect", "within"];
    public static readonly IReadOnlyList<string> ReleaseKeys = ["branch", "version", "tag"];
    public static readonly IReadOnlyList<string> StageKeys = ["name", "when", "env", "jobs"];
    public static readonly IReadOnlyList<string> WhenKeys = ["branches"];

    public static readonly IReadOnlyList<string> JobKeys =
        ["name", "run", "env", "secrets", "pool", "labels", "artifacts", "reports", "metrics", "timeout", "retry"];

    public const int SupportedVersion = 1;
}
