namespace Slipway.Core.Pipelines;

/// <summary>
/// A parsed, validated <c>.slipway.yml</c>. Immutable. Produced only by <see cref="PipelineParser"/>,
/// so every instance already passed every lint rule.
/// Later issues add optional top-level sections (<c>release:</c>, <c>deploy:</c>) as new nullable
/// properties here; existing files stay valid because nothing existing changes meaning.
/// </summary>
public sealed record PipelineDefinition(
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<StageDefinition> Stages,
    ReleaseDefinition? Release = null,
    DeployDefinition? Deploy = null);

/// <summary>
/// <c>deploy: { run | targets + rolling? + steps, verify?, rollback?, timeout? }</c>: how a release is deployed, read
/// from the release's snapshot of this file (so only reviewed, merged code defines it). Either <see cref="Run"/> (one
/// script on an agent of the environment's pool) or <see cref="Rollout"/> (the deploy agent rolls the release across the
/// environment's targets, batch by batch, draining each in the load balancer: docs/last-mile.md). <see cref="Verify"/>
/// (smoke tests) runs after either, and its failure fails the deployment; with <see cref="AutoRollback"/> a failed
/// deployment redeploys the environment's previous successful release.
/// </summary>
public sealed record DeployDefinition(string? Run, string? Verify, bool AutoRollback, TimeSpan Timeout,
    Deployments.Rollout.RolloutDefinition? Rollout = null, string? VerifyMetrics = null, IReadOnlyList<ReleaseCheck>? Checks = null);

/// <summary>
/// <c>release: { branch?, version, tag? }</c>: a green run on one of the project's release branches (a server-side
/// setting, see <see cref="Releases.ReleaseBranches"/>) creates a release whose version is <see cref="VersionTemplate"/>
/// with <c>{run}</c> replaced by the run number and <c>{tag}</c> by the newest tag matching <see cref="TagPattern"/> that
/// the commit contains. <see cref="Branch"/> is informational: the server never releases a branch because its file names
/// it, and warns on the run where the file disagrees with the project's settings.
/// </summary>
public sealed record ReleaseDefinition(string? Branch, string VersionTemplate, string? TagPattern = null)
{
    public bool UsesTag => Releases.VersionTemplate.UsesTag(VersionTemplate);

    /// <param name="tag">The newest matching tag's name (as git has it); required when <see cref="UsesTag"/>.</param>
    public string VersionFor(long runNumber, string? tag = null) =>
        Releases.VersionTemplate.Expand(VersionTemplate, runNumber, tag is null ? null : Releases.VersionTemplate.VersionOfTag(tag));
}

/// <summary>One stage: its jobs run in parallel; stages run in file order.</summary>
public sealed record StageDefinition(
    string Name,
    BranchFilter? When,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<JobDefinition> Jobs);

/// <summary>
/// One job: a bash script run with <c>-eo pipefail</c> on an agent of <see cref="Pool"/>.
/// <see cref="Secrets"/> names the project's secret variables this job receives; no other job gets them.
/// </summary>
public sealed record JobDefinition(
    string Name,
    string Run,
    IReadOnlyDictionary<string, string> Env,
    string Pool,
    IReadOnlyList<string> Labels,
    IReadOnlyList<string> Artifacts,
    IReadOnlyList<string> Reports,
    TimeSpan Timeout,
    int Retry,
    IReadOnlyList<string>? Secrets = null,
    string? Metrics = null)
{
    public const string DefaultPool = "build";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromHours(1);
    public const int MaxRetry = 5;
}

/// <summary><c>when: { branches: [...] }</c>: the stage runs only on branches matching one glob.</summary>
public sealed record BranchFilter(IReadOnlyList<string> Branches)
{
    public bool Matches(string branch) => Branches.Any(g => Glob.IsMatch(g, branch));
}
