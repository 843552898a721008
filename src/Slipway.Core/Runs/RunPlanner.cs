using Slipway.Core.Pipelines;

namespace Slipway.Core.Runs;

/// <summary>
/// A job as it will be stored: everything an agent needs except the run-specific variables. <see cref="Rollout"/> is set
/// only on a rolling deployment's job: the plan the deploy agent carries out instead of a script (the agent protocol's
/// RolloutJob, as JSON), fixed by the deployment conductor when the deployment starts.
/// </summary>
public sealed record PlannedJob(
    string Name, string Pool, IReadOnlyList<string> Labels, string Script,
    IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> Artifacts, IReadOnlyList<string> Reports,
    TimeSpan Timeout, int Retry, IReadOnlyList<string>? Secrets = null, string? Rollout = null, string? Metrics = null);

public sealed record PlannedStage(int Index, string Name, bool Skipped, IReadOnlyList<PlannedJob> Jobs);

public sealed record RunPlan(IReadOnlyList<PlannedStage> Stages);

/// <summary>
/// Turns a pipeline definition into the stages and jobs of one run on one branch. Pure.
/// Env precedence: pipeline &lt; stage &lt; job. SLIPWAY_* variables are added at dispatch
/// (they are reserved, so the file cannot set them).
/// </summary>
public static class RunPlanner
{
    public static RunPlan Plan(PipelineDefinition pipeline, string branch)
    {
        var stages = new List<PlannedStage>();
        for (var i = 0; i < pipeline.Stages.Count; i++)
        {
            var stage = pipeline.Stages[i];
            var skipped = stage.When is not null && !stage.When.Matches(branch);
            var jobs = stage.Jobs.Select(job => new PlannedJob(
                job.Name, job.Pool, job.Labels, job.Run,
                Merge(pipeline.Env, stage.Env, job.Env),
                job.Artifacts, job.Reports, job.Timeout, job.Retry, job.Secrets ?? [], Metrics: job.Metrics)).ToList();
            stages.Add(new PlannedStage(i, stage.Name, skipped, jobs));
        }
        return new RunPlan(stages);
    }

    private static IReadOnlyDictionary<string, string> Merge(params IReadOnlyDictionary<string, string>[] layers)
    {
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in layers)
            foreach (var (k, v) in layer)
                env[k] = v;
        return env;
    }
}
