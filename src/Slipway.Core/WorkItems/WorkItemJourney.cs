namespace Slipway.Core.WorkItems;

/// <summary>
/// One deployment of the item's project, as far as the item's journey cares: where, which release (by id, releases are
/// ordered), its state name (<c>succeeded</c>, <c>failed</c>, <c>awaiting_approval</c>, ...) and when it finished (unix ms).
/// </summary>
public sealed record JourneyDeployment(long Id, string Environment, long ReleaseId, string State, long? FinishedAt);

/// <summary>Where an item stands on one environment.</summary>
public enum ItemEnvironmentStatus
{
    /// <summary>A deployment of a release containing it waits for approval, in the queue, or runs.</summary>
    Pending,
    /// <summary>The environment's current release contains it.</summary>
    Deployed,
    /// <summary>A release containing it reached the environment, then an older release became current again.</summary>
    RolledBack,
    /// <summary>A release containing it was deployed there and failed (or was lost), and no release containing it is current.</summary>
    Failed,
}

/// <summary>The item on one environment, and the deployment that put it there, took it away or is on its way.</summary>
public sealed record ItemEnvironmentStanding(string Environment, ItemEnvironmentStatus Status, long DeploymentId);

/// <summary>
/// The item's whole standing: per environment (lifecycle order, only those it reached or is going to), and the one
/// stage a badge shows: the furthest environment it is on now, else "rolled back" when it left every environment it
/// reached, else its <see cref="WorkItemState"/>.
/// </summary>
/// <param name="Stage">Wire name: <c>on_environment</c>, <c>rolled_back</c>, <c>deploy_failed</c>, or the state's name.</param>
/// <param name="StageEnvironment">The environment <paramref name="Stage"/> is about (null for a plain state).</param>
public sealed record ItemJourney(IReadOnlyList<ItemEnvironmentStanding> Environments, string Stage, string? StageEnvironment)
{
    /// <summary>What the badge reads: "on production", "rolled back from production", "released", "in review".</summary>
    public string Label => Stage switch
    {
        WorkItemJourneys.OnEnvironment => $"on {StageEnvironment}",
        WorkItemJourneys.RolledBack => $"rolled back from {StageEnvironment}",
        WorkItemJourneys.DeployFailed => $"failed on {StageEnvironment}",
        _ => Stage.Replace('_', ' '),
    };

    /// <summary>The environment the item is furthest on now, or null.</summary>
    public string? FurthestDeployed => Environments.LastOrDefault(e => e.Status == ItemEnvironmentStatus.Deployed)?.Environment;
}

/// <summary>
/// Derives where a work item is after its release: which environments run a release containing it now. Pure. Which releases
/// contain the item is the caller's answer (<see cref="Releases.ReleaseLineage"/>: the first release that names it and every
/// release whose commit descends from that one's; a hotfix cut from an older release branch does not contain it). The
/// overloads taking the first release's id alone use the rule "that release and every later one" (a single line of releases).
/// </summary>
public static class WorkItemJourneys
{
    public const string OnEnvironment = "on_environment";
    public const string RolledBack = "rolled_back";
    public const string DeployFailed = "deploy_failed";

    private static readonly HashSet<string> Ran = ["succeeded", "failed", "unknown"];
    private static readonly HashSet<string> Active = ["awaiting_approval", "queued", "running"];

    /// <param name="state">The item's state before deployment (<see cref="WorkItemStates.Derive"/>).</param>
    /// <param name="firstReleaseId">The first release containing the item; null when none does yet.</param>
    /// <param name="environments">The project's environment names in lifecycle order.</param>
    /// <param name="deployments">The project's deployments, any order.</param>
    public static ItemJourney Derive(WorkItemState state, long? firstReleaseId, IReadOnlyList<string> environments,
        IReadOnlyList<JourneyDeployment> deployments) =>
        Derive(state, firstReleaseId is { } first ? id => id >= first : null, environments, deployments);

    /// <param name="contains">Whether a release (by id) contains the item; null when no release does yet.</param>
    public static ItemJourney Derive(WorkItemState state, Func<long, bool>? contains, IReadOnlyList<string> environments,
        IReadOnlyList<JourneyDeployment> deployments)
    {
        if (contains is null) return new ItemJourney([], state.Name(), null);
        var standings = new List<ItemEnvironmentStanding>();
        foreach (var environment in environments)
        {
            var here = deployments.Where(d => d.Environment == environment).OrderBy(d => d.Id).ToList();
            if (Standing(environment, here, contains) is { } standing) standings.Add(standing);
        }
        var deployed = standings.LastOrDefault(s => s.Status == ItemEnvironmentStatus.Deployed);
        if (deployed is not null) return new ItemJourney(standings, OnEnvironment, deployed.Environment);
        var left = standings.LastOrDefault(s => s.Status == ItemEnvironmentStatus.RolledBack);
        if (left is not null) return new ItemJourney(standings, RolledBack, left.Environment);
        var failed = standings.LastOrDefault(s => s.Status == ItemEnvironmentStatus.Failed);
        if (failed is not null) return new ItemJourney(standings, DeployFailed, failed.Environment);
        return new ItemJourney(standings, state.Name(), null);
    }

    private static ItemEnvironmentStanding? Standing(string environment, List<JourneyDeployment> here, Func<long, bool> contains)
    {
        // The last successful deployment to finish is what the environment runs (deployments approved out of order finish out of order).
        var current = here.Where(d => d.State == "succeeded").OrderBy(d => d.FinishedAt).ThenBy(d => d.Id).LastOrDefault();
        if (current is not null && contains(current.ReleaseId)) return new(environment, ItemEnvironmentStatus.Deployed, current.Id);
        var coming = here.LastOrDefault(d => contains(d.ReleaseId) && Active.Contains(d.State));
        if (coming is not null) return new(environment, ItemEnvironmentStatus.Pending, coming.Id);
        var reached = here.Where(d => contains(d.ReleaseId) && Ran.Contains(d.State)).OrderBy(d => d.FinishedAt).ThenBy(d => d.Id).LastOrDefault();
        if (reached is null) return null;
        // It reached the servers and a release without it is current again (an automatic or a manual rollback, a plain
        // redeploy of an older release, or a hotfix from an older release branch): rolled back, named by the deployment that took it away. Otherwise it failed there.
        return current is not null && (current.FinishedAt, current.Id).CompareTo((reached.FinishedAt, reached.Id)) > 0
            ? new(environment, ItemEnvironmentStatus.RolledBack, current.Id)
            : new(environment, ItemEnvironmentStatus.Failed, reached.Id);
    }

    /// <summary>
    /// The deployments that moved the item on or off an environment, in the order they finished: a deployment that ran
    /// (succeeded, or failed or was lost after starting: either way it reached the servers) with a release containing it
    /// where the last one to run had none is an arrival; one with an older release where the last had it is a departure.
    /// </summary>
    public static IReadOnlyList<(JourneyDeployment Deployment, bool Arrived)> Moves(long firstReleaseId, IReadOnlyList<JourneyDeployment> deployments) =>
        Moves(id => id >= firstReleaseId, deployments);

    /// <param name="containsItem">Whether a release (by id) contains the item.</param>
    public static IReadOnlyList<(JourneyDeployment Deployment, bool Arrived)> Moves(Func<long, bool> containsItem, IReadOnlyList<JourneyDeployment> deployments)
    {
        var moves = new List<(JourneyDeployment, bool)>();
        var present = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var d in deployments.Where(d => Ran.Contains(d.State) && d.FinishedAt is not null).OrderBy(d => d.FinishedAt).ThenBy(d => d.Id))
        {
            var contains = containsItem(d.ReleaseId);
            if (contains != present.GetValueOrDefault(d.Environment)) moves.Add((d, contains));
            present[d.Environment] = contains;
        }
        return moves;
    }

    public static string Name(this ItemEnvironmentStatus status) => status switch
    {
        ItemEnvironmentStatus.Pending => "pending",
        ItemEnvironmentStatus.Deployed => "deployed",
        ItemEnvironmentStatus.RolledBack => "rolled_back",
        ItemEnvironmentStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
