using Slipway.Core.WorkItems;

namespace Slipway.Core.Tests.WorkItems;

public sealed class WorkItemJourneysTests
{
    private static readonly string[] Lifecycle = ["staging", "production"];

    /// <summary>Release 10 is the first containing the item; 9 predates it.</summary>
    private static ItemJourney Derive(params JourneyDeployment[] deployments) =>
        WorkItemJourneys.Derive(WorkItemState.Released, 10, Lifecycle, deployments);

    private static JourneyDeployment D(long id, string environment, long release, string state = "succeeded", long? finished = null) =>
        new(id, environment, release, state, finished ?? (state is "succeeded" or "failed" or "unknown" ? id * 1000 : null));

    [Fact]
    public void WithoutRelease_TheStageIsTheState()
    {
        var journey = WorkItemJourneys.Derive(WorkItemState.InReview, (long?)null, Lifecycle, [D(1, "staging", 9)]);

        Assert.Equal(("in_review", "in review"), (journey.Stage, journey.Label));
        Assert.Empty(journey.Environments);
    }

    [Fact]
    public void ReleasedButNotDeployed_IsReleased()
    {
        var journey = Derive(D(1, "staging", 9));

        Assert.Equal(("released", null), (journey.Stage, journey.StageEnvironment));
        Assert.Empty(journey.Environments);
    }

    [Fact]
    public void OnStagingAndProduction_IsOnTheFurthestInLifecycleOrder()
    {
        // Production is listed first among deployments; the lifecycle order decides.
        var journey = Derive(D(3, "production", 10), D(1, "staging", 10), D(2, "staging", 11));

        Assert.Equal(("on_environment", "on production"), (journey.Stage, journey.Label));
        Assert.Equal([("staging", ItemEnvironmentStatus.Deployed, 2L), ("production", ItemEnvironmentStatus.Deployed, 3L)],
            journey.Environments.Select(e => (e.Environment, e.Status, e.DeploymentId)));
    }

    [Fact]
    public void OnlyProductionDeploymentRolledBack_IsNotOnProduction()
    {
        // Production ran 9, then 10 (verify failed), then the automatic rollback to 9.
        var journey = Derive(D(1, "staging", 10), D(2, "production", 9), D(3, "production", 10, "failed"), D(4, "production", 9));

        Assert.Equal(("on_environment", "on staging"), (journey.Stage, journey.Label));
        var production = journey.Environments.Single(e => e.Environment == "production");
        Assert.Equal((ItemEnvironmentStatus.RolledBack, 4L), (production.Status, production.DeploymentId));
    }

    [Fact]
    public void SucceededThenRolledBackEverywhere_IsRolledBack_NotReleasedGreen()
    {
        var journey = WorkItemJourneys.Derive(WorkItemState.Released, 10, ["production"], [D(1, "production", 10), D(2, "production", 9)]);

        Assert.Equal(("rolled_back", "rolled back from production"), (journey.Stage, journey.Label));
        Assert.Null(journey.FurthestDeployed);
    }

    [Fact]
    public void ALaterReleaseCarriesTheItem()
    {
        var journey = Derive(D(1, "production", 10), D(2, "production", 12));

        Assert.Equal((ItemEnvironmentStatus.Deployed, 2L), (journey.Environments.Single().Status, journey.Environments.Single().DeploymentId));
    }

    [Fact]
    public void FailedWithoutRollback_IsFailed_AndAwaitingApprovalIsPending()
    {
        var journey = Derive(D(1, "staging", 9), D(2, "staging", 10, "failed"), D(3, "production", 10, "awaiting_approval"));

        Assert.Equal([("staging", ItemEnvironmentStatus.Failed), ("production", ItemEnvironmentStatus.Pending)],
            journey.Environments.Select(e => (e.Environment, e.Status)));
        Assert.Equal(("deploy_failed", "failed on staging"), (journey.Stage, journey.Label));
    }

    [Fact]
    public void CurrentIsTheLastToFinish_NotTheLastRequested()
    {
        // 2 (release 10) was requested after 1 (release 9) but finished first: 9 is current, so 10 was replaced.
        var journey = Derive(D(1, "staging", 9, finished: 5000), D(2, "staging", 10, finished: 4000));

        Assert.Equal(ItemEnvironmentStatus.RolledBack, journey.Environments.Single().Status);
    }

    [Fact]
    public void RejectedOrCancelledDeployments_DoNotCount()
    {
        var journey = Derive(D(1, "production", 10, "rejected"), D(2, "staging", 10, "cancelled"));

        Assert.Equal("released", journey.Stage);
        Assert.Empty(journey.Environments);
    }

    [Fact]
    public void Moves_AreArrivalsAndDepartures_PerEnvironment_InFinishOrder()
    {
        JourneyDeployment[] deployments =
        [
            D(1, "production", 9), D(2, "staging", 10), D(3, "production", 10, "failed"), D(4, "production", 9),
            D(5, "staging", 11), D(6, "production", 11), D(7, "production", 12, "awaiting_approval"),
        ];

        var moves = WorkItemJourneys.Moves(10, deployments);

        Assert.Equal([(2L, true), (3L, true), (4L, false), (6L, true)], moves.Select(m => (m.Deployment.Id, m.Arrived)));
    }
}
