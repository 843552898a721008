namespace Slipway.Bench.Scale;

/// <summary>
/// How much history the seeder writes. <see cref="Runs"/> counts every run, the CI builds and the one run each deployment
/// executes (as the server does: a deployment's run is a run without a number), so 100 000 runs with 10 000 deployments
/// are 90 000 builds and 10 000 deployment runs. Every project gets an equal share.
/// </summary>
public sealed record HistoryShape(int Projects, int Runs, int Deployments, int AuditEntries)
{
    public int DeploymentsPerProject => Deployments / Projects;
    public int BuildsPerProject => (Runs - Deployments) / Projects;

    /// <summary>Every release goes to dev; 60 % of them on to staging, 40 % to production: two deployments per release.</summary>
    public int ReleasesPerProject => Math.Max(1, DeploymentsPerProject / 2);

    /// <summary>About one work item per 22 builds (200 per project at the default size), half of them with a change request.</summary>
    public int ItemsPerProject => Math.Max(10, BuildsPerProject / 22);

    public static readonly string[] Environments = ["dev", "staging", "production"];
}
