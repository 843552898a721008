using System.Globalization;
using System.Text.Json;
using Slipway.Contracts.Agents;
using Slipway.Core.Deployments.Rollout;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;

namespace Slipway.Server.Deployments;

/// <summary>How a rolling deployment's plan is written into a job (jobs.spec) and read back for the lease.</summary>
public static class RolloutJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}

/// <summary>
/// Builds a deployment's run, in one place: from the release's <c>deploy:</c> section (its snapshot, so only reviewed code
/// defines it) and the environment's server-side settings. A <c>run:</c> section becomes one script job; a rolling
/// section becomes one job the deploy agent carries out itself (targets, batches, load balancers: <see cref="RolloutJob"/>),
/// planned here by <see cref="RolloutPlanner"/> so that a plan that cannot be safe is refused before anything runs.
/// Either way a <c>verify:</c> script runs as a second stage.
/// </summary>
public sealed class DeploymentJobs(EnvironmentStore environments, TargetStore targets)
{
    /// <summary>The stage (and job) that runs the release's <c>deploy.verify</c>; a deployment is "verified" only when it ran.</summary>
    public const string VerifyStage = "verify";

    /// <summary>The SSH private key of a rolling deployment: a secret of the environment with this name.</summary>
    public const string SshKeySecret = "SSH_PRIVATE_KEY";
    /// <summary>Its passphrase, when it has one: an optional secret of the environment.</summary>
    public const string SshPassphraseSecret = "SSH_KEY_PASSPHRASE";

    /// <summary>The run plan, the rollout's targets by batch (empty for a script deployment), or why nothing can run.</summary>
    public sealed record Built(RunPlan? Plan, IReadOnlyList<(string Target, int Batch)> Targets, string? Refusal);

    public async Task<Built> BuildAsync(DeploymentRow d, EnvironmentRow environment, ReleaseRow release, DeployDefinition deploy)
    {
        var variables = await environments.VariablesAsync(environment.Id);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RolloutVariables.Environment] = environment.Name,
            [RolloutVariables.Release] = release.Version,
            [RolloutVariables.PreviousRelease] = d.PreviousVersion ?? "",
            [RolloutVariables.Deployment] = d.Number.ToString(CultureInfo.InvariantCulture),
        };
        var secrets = variables.Where(v => v.Secret).Select(v => v.Name).ToList();
        JobDefinition Job(string name, string script, string? metrics = null) => new(name, script, values, environment.Pool, [], [], [], deploy.Timeout, 0, secrets, metrics);

        string? rollout = null;
        IReadOnlyList<(string, int)> planned = [];
        if (deploy.Rollout is { } definition)
        {
            var all = (await targets.ListAsync(environment.Id)).Select(t => t.ToTarget()).ToList();
            var balancers = await targets.BalancersAsync(environment.Id);
            var (plan, refusals) = RolloutPlanner.Plan(definition, all, balancers.Count, balancers.Select(b => b.MinHealthy).DefaultIfEmpty(1).Max());
            if (plan is null) return new(null, [], $"the rollout cannot be planned: {string.Join("; ", refusals)}; nothing ran");
            var planTargets = plan.Batches.SelectMany(b => b.Targets).ToList();
            // Node agents need no SSH key; any target reached by SSH does.
            if (planTargets.Any(t => !t.ViaNodeAgent) && !variables.Any(v => v.Name == SshKeySecret && v.Secret))
                return new(null, [], $"a rolling deployment needs the SSH private key as the environment's secret {SshKeySecret} " +
                                     $"(slipway env var set PROJECT {environment.Name} {SshKeySecret} --secret --value-file KEYFILE); nothing ran");
            // A playbook reaches its hosts by SSH, from the deploy agent: a node agent's target has no SSH to offer it.
            if (plan.Steps.Any(s => s is AnsibleStep) && planTargets.Where(t => t.ViaNodeAgent).Select(t => t.Name).ToList() is { Count: > 0 } nodes)
                return new(null, [], $"the ansible step reaches its hosts by SSH, and {string.Join(", ", nodes)} are served by node agents; nothing ran");
            var job = new RolloutJob(
                plan.Batches.SelectMany(b => b.Targets.Select(t => new RolloutTargetSpec(t.Name, t.Host, t.SshPort, t.SshUser, t.HostKeyFingerprint,
                    t.Backend, t.Server, b.Number, t.Roles, t.NodeAgent))).ToList(),
                plan.Steps.Select(Spec).ToList(),
                balancers.Select(Spec).ToList(),
                plan.MaxFailures,
                SshKeySecret,
                variables.Any(v => v.Name == SshPassphraseSecret && v.Secret) ? SshPassphraseSecret : null,
                values,
                PauseOnFailure: definition.PauseOnFailure);
            rollout = JsonSerializer.Serialize(job, RolloutJson.Options);
            planned = plan.Batches.SelectMany(b => b.Targets.Select(t => (t.Name, b.Number))).ToList();
        }

        List<StageDefinition> stages = [new("deploy", null, new Dictionary<string, string>(), [Job("deploy", deploy.Run ?? "")])];
        if (deploy.Verify is { } verify) stages.Add(new(VerifyStage, null, new Dictionary<string, string>(), [Job(VerifyStage, verify, deploy.VerifyMetrics)]));
        var runPlan = RunPlanner.Plan(new PipelineDefinition(new Dictionary<string, string>(), stages), release.Branch);
        if (rollout is not null)
            runPlan = runPlan with
            {
                Stages = runPlan.Stages.Select(s => s.Index == 0 ? s with { Jobs = [s.Jobs[0] with { Rollout = rollout }] } : s).ToList(),
            };
        return new(runPlan, planned, null);
    }

    /// <summary>
    /// The run of <c>deployment repair N</c>: one job on the environment's pool that sets <paramref name="toRepair"/> back to
    /// ready on every load balancer and waits until each is UP (<see cref="RolloutJob.RepairMode"/>); no step, no secret.
    /// </summary>
    public async Task<(RunPlan Plan, IReadOnlyList<string> Targets)> BuildRepairAsync(DeploymentRow d, EnvironmentRow environment, string branch,
        IReadOnlyList<string> toRepair)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RolloutVariables.Environment] = environment.Name,
            [RolloutVariables.Release] = d.Version,
            [RolloutVariables.PreviousRelease] = d.PreviousVersion ?? "",
            [RolloutVariables.Deployment] = d.Number.ToString(CultureInfo.InvariantCulture),
        };
        var rows = (await targets.ListAsync(environment.Id)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var specs = toRepair.Select(name => rows.TryGetValue(name, out var row) ? row.ToTarget() : null)
            .Where(t => t is { Backend: not null })
            .Select(t => new RolloutTargetSpec(t!.Name, t.Host, t.SshPort, t.SshUser, t.HostKeyFingerprint, t.Backend, t.Server, 1, t.Roles, t.NodeAgent))
            .ToList();
        if (specs.Count == 0) throw new ConflictException("nothing to repair: the targets left out of rotation are no longer behind a load balancer of the environment");
        var balancers = await targets.BalancersAsync(environment.Id);
        if (balancers.Count == 0) throw new ConflictException($"environment '{environment.Name}' has no load balancer any more: nothing to put servers back into");
        var job = new RolloutJob(specs, [], balancers.Select(Spec).ToList(),
            specs.Count, SshKeySecret, null, values, RolloutJob.RepairMode);
        var definition = new JobDefinition("repair", "", values, environment.Pool, [], [], [], TimeSpan.FromMinutes(10), 0, []);
        var plan = RunPlanner.Plan(new PipelineDefinition(new Dictionary<string, string>(),
            [new StageDefinition("repair", null, new Dictionary<string, string>(), [definition])]), branch);
        return (plan with { Stages = plan.Stages.Select(s => s with { Jobs = [s.Jobs[0] with { Rollout = JsonSerializer.Serialize(job, RolloutJson.Options) }] }).ToList() },
            specs.Select(t => t.Name).ToList());
    }

    private static BalancerSpec Spec(BalancerRow b) =>
        new(b.Name, b.Address, b.MinHealthy, b.DrainTimeoutSeconds, b.Kind, b.DrainCommand, b.EnableCommand, b.StatusCommand);

    private static RolloutStepSpec Spec(RolloutStep step) => step switch
    {
        UploadStep u => new RolloutStepSpec("upload", u.Describe(), From: u.From, To: u.To),
        SshStep s => new RolloutStepSpec("ssh", s.Describe(), Script: s.Script),
        HealthStep h => new RolloutStepSpec("health", h.Describe(), Url: h.Url, Expect: h.ExpectStatus, WithinSeconds: (int)Math.Ceiling(h.Within.TotalSeconds)),
        AnsibleStep a => new RolloutStepSpec("ansible", a.Describe(), Playbook: a.Playbook),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step.GetType().Name),
    };
}
