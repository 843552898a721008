using Slipway.Core.Deployments;
using Slipway.Core.Environments;
using Slipway.Core.Policies;

namespace Slipway.Core.Tests.Deployments;

public sealed class DeploymentDomainTests
{
    private static EnvironmentSettings Env(string name, int position, bool optional = false, int approvals = 0, string? approverRole = null,
        params string[] deployers) =>
        new(name, position, optional, name == "production" ? "deploy-prod" : "deploy", deployers, approvals, approverRole, name == "staging", QueuePolicy.OldestFirst);

    private static readonly IReadOnlyList<EnvironmentSettings> Lifecycle3 =
        [Env("dev", 0, optional: true), Env("staging", 1), Env("production", 2, false, 1, "analyst", "role:analyst")];

    [Theory]
    [InlineData("dev", "", null)]
    [InlineData("staging", "", null)] // dev is optional: skipped
    [InlineData("production", "", "has not succeeded on 'staging'")]
    [InlineData("production", "dev", "has not succeeded on 'staging'")]
    [InlineData("production", "staging", null)]
    public void Lifecycle_AReleaseReachesAnEnvironmentOnlyAfterTheOneBefore(string target, string succeeded, string? refusal)
    {
        var on = succeeded.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var result = Lifecycle.CheckOrder(Lifecycle3, target, "1.0.3", on);
        if (refusal is null) Assert.Null(result);
        else Assert.Contains(refusal, result);
    }

    [Fact]
    public void Promotion_TakesTheReleaseOfThePreviousEnvironment_SkippingOptionalOnesWithNone()
    {
        Assert.Equal("staging", Lifecycle.PromotionSource(Lifecycle3, "production", new Dictionary<string, string> { ["staging"] = "1.0.3" })!.Name);
        Assert.Null(Lifecycle.PromotionSource(Lifecycle3, "production", new Dictionary<string, string> { ["dev"] = "1.0.4" }));
        Assert.Null(Lifecycle.PromotionSource(Lifecycle3, "staging", new Dictionary<string, string>()));
        Assert.Equal("dev", Lifecycle.PromotionSource(Lifecycle3, "staging", new Dictionary<string, string> { ["dev"] = "1.0.4" })!.Name);
    }

    [Fact]
    public void RecurringFreeze_FridayAfternoonToMondayMorning_Berlin_FollowsDaylightSaving()
    {
        var weekend = new FreezeWindow("weekend", "0 16 * * FRI", TimeSpan.FromHours(64), "Europe/Berlin", null, null);
        Assert.Null(weekend.Check());
        // 2026-11-27 is a Friday; Berlin is UTC+1 in winter: 16:00 local = 15:00 UTC.
        Assert.Null(weekend.ActiveUntil(DateTimeOffset.Parse("2026-11-27T14:59:00Z")));
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T07:00:00Z"), weekend.ActiveUntil(DateTimeOffset.Parse("2026-11-27T15:00:00Z")));
        Assert.NotNull(weekend.ActiveUntil(DateTimeOffset.Parse("2026-11-29T12:00:00Z")));
        Assert.Null(weekend.ActiveUntil(DateTimeOffset.Parse("2026-11-30T07:00:00Z")));
        // Summer (UTC+2): 16:00 local = 14:00 UTC.
        Assert.NotNull(weekend.ActiveUntil(DateTimeOffset.Parse("2026-07-03T14:00:00Z")));
        Assert.Null(weekend.ActiveUntil(DateTimeOffset.Parse("2026-07-03T13:59:00Z")));
    }

    [Fact]
    public void OneOffFreeze_AndBadWindows()
    {
        var once = new FreezeWindow("audit", null, null, null, DateTimeOffset.Parse("2026-12-01T00:00Z"), DateTimeOffset.Parse("2026-12-02T00:00Z"));
        Assert.Null(once.Check());
        Assert.NotNull(once.ActiveUntil(DateTimeOffset.Parse("2026-12-01T12:00Z")));
        Assert.Null(once.ActiveUntil(DateTimeOffset.Parse("2026-12-02T00:00Z")));
        Assert.Contains("cron", new FreezeWindow("x", "every friday", TimeSpan.FromHours(1), null, null, null).Check());
        Assert.Contains("time zone", new FreezeWindow("x", "0 16 * * FRI", TimeSpan.FromHours(1), "Mars/Olympus", null, null).Check());
        Assert.Contains("duration", new FreezeWindow("x", "0 16 * * FRI", null, null, null, null).Check());
        Assert.Contains("end after", new FreezeWindow("x", null, null, null, once.To, once.From).Check());
    }

    private static DeploymentRequest Request(string who, string env, string[] roles, bool breakGlass = false, string? reason = null) =>
        new(who, roles.ToHashSet(), "1.0.3", Lifecycle3.Single(e => e.Name == env), breakGlass, reason);

    [Fact]
    public void Request_ListsEveryRefusal_ByRule()
    {
        var freeze = new FreezeWindow("always", null, null, null, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var now = DateTimeOffset.Parse("2026-11-26T12:00Z");
        var (refusals, _) = DeploymentRules.CheckRequest(Request("dev1", "production", ["developer"]), Lifecycle3, new HashSet<string>(), [freeze], now);
        Assert.Equal([DeploymentRules.Deployer, DeploymentRules.LifecycleOrder, DeploymentRules.Freeze], refusals.Select(r => r.Rule));

        var ok = DeploymentRules.CheckRequest(Request("ann", "production", ["analyst"]), Lifecycle3, new HashSet<string> { "staging" }, [], now);
        Assert.Empty(ok.Refusals);
        Assert.False(ok.Emergency);
    }

    [Fact]
    public void Freeze_YieldsOnlyToBreakGlassWithAReason()
    {
        var freeze = new FreezeWindow("always", null, null, null, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var now = DateTimeOffset.Parse("2026-11-26T12:00Z");
        var staged = new HashSet<string> { "staging" };
        Assert.Contains("does not hold deploy.break-glass", DeploymentRules.CheckRequest(Request("ann", "production", ["analyst"], false, "prod is down!!"), Lifecycle3, staged, [freeze], now).Refusals.Single().Message);
        Assert.Contains("reason of at least", DeploymentRules.CheckRequest(Request("ann", "production", ["analyst"], true, "down"), Lifecycle3, staged, [freeze], now).Refusals.Single().Message);
        var emergency = DeploymentRules.CheckRequest(Request("ann", "production", ["analyst"], true, "payments are down, hotfix"), Lifecycle3, staged, [freeze], now);
        Assert.Empty(emergency.Refusals);
        Assert.True(emergency.Emergency);
    }

    [Fact]
    public void Approvals_NeverByTheInitiatorOrAnAuthor_AndFromTheNamedRole()
    {
        var prod = Lifecycle3.Single(e => e.Name == "production");
        Assert.Equal(PolicyRules.InitiatorNotApprover, Assert.IsType<PolicyDecision.Refused>(DeploymentRules.MayApprove("ann", new HashSet<string> { "analyst" }, "ann", [], prod)).Rule);
        Assert.Equal(PolicyRules.ActorNotAuthor, Assert.IsType<PolicyDecision.Refused>(DeploymentRules.MayApprove("bob", new HashSet<string> { "analyst" }, "ann", ["bob"], prod)).Rule);
        Assert.Contains("role 'analyst'", Assert.IsType<PolicyDecision.Refused>(DeploymentRules.MayApprove("carl", new HashSet<string> { "developer" }, "ann", [], prod)).Message);
        Assert.Same(PolicyDecision.Allow, DeploymentRules.MayApprove("carl", new HashSet<string> { "analyst" }, "ann", ["bob"], prod));
        Assert.IsType<PolicyDecision.Refused>(DeploymentRules.Approved([], prod));
        Assert.Same(PolicyDecision.Allow, DeploymentRules.Approved([new Approval("carl", new HashSet<string> { "analyst" }, DateTimeOffset.UtcNow, null)], prod));
    }

    [Fact]
    public void Queue_OldestFirst_OrNewestWinsSupersedingTheRest()
    {
        IReadOnlyList<QueuedDeployment> queued = [new(3, 30), new(1, 10), new(2, 20)];
        Assert.Equal((1L, 0), (DeploymentQueue.Next(queued, QueuePolicy.OldestFirst).Next!.Id, DeploymentQueue.Next(queued, QueuePolicy.OldestFirst).Superseded.Count));
        var (next, superseded) = DeploymentQueue.Next(queued, QueuePolicy.NewestWins);
        Assert.Equal(3, next!.Id);
        Assert.Equal([1L, 2L], superseded.Select(s => s.Id));
        Assert.Null(DeploymentQueue.Next([], QueuePolicy.NewestWins).Next);
    }

    [Theory]
    [InlineData(DeploymentState.AwaitingApproval, DeploymentState.Queued)]
    [InlineData(DeploymentState.AwaitingApproval, DeploymentState.Rejected)]
    [InlineData(DeploymentState.Queued, DeploymentState.Running)]
    [InlineData(DeploymentState.Queued, DeploymentState.Superseded)]
    [InlineData(DeploymentState.Running, DeploymentState.Unknown)]
    [InlineData(DeploymentState.Running, DeploymentState.Succeeded)]
    public void Transitions_Allowed(DeploymentState from, DeploymentState to) => DeploymentTransitions.Ensure("deployment 1", from, to);

    [Theory]
    [InlineData(DeploymentState.AwaitingApproval, DeploymentState.Running)] // never skips approval
    [InlineData(DeploymentState.Succeeded, DeploymentState.Running)]
    [InlineData(DeploymentState.Rejected, DeploymentState.Queued)]
    [InlineData(DeploymentState.Unknown, DeploymentState.Running)] // a lost deployment never re-runs by itself
    public void Transitions_Refused_Loudly(DeploymentState from, DeploymentState to) =>
        Assert.Contains("cannot move deployment 1", Assert.Throws<DeploymentTransitionException>(() => DeploymentTransitions.Ensure("deployment 1", from, to)).Message);

    [Theory]
    [InlineData(DeploymentState.Rejected, "approve", "cannot approve deployment #4: it was rejected, and a rejection is final: to ship that release there, ask for a new deployment")]
    [InlineData(DeploymentState.Cancelled, "approve", "cannot approve deployment #4: it was cancelled: to ship that release there, ask for a new deployment")]
    [InlineData(DeploymentState.Queued, "reject", "cannot reject deployment #4: it is queued already, approved or not needing approval")]
    [InlineData(DeploymentState.Succeeded, "reject", "cannot reject deployment #4: it has already finished (succeeded)")]
    public void ADecision_OnADeploymentNotAwaitingOne_SaysWhatItIsInstead(DeploymentState state, string verb, string message)
    {
        Assert.Equal(message, Assert.Throws<DeploymentTransitionException>(() => DeploymentTransitions.EnsureAwaitingDecision("deployment #4", state, verb)).Message);
        DeploymentTransitions.EnsureAwaitingDecision("deployment #4", DeploymentState.AwaitingApproval, verb);
    }

    [Fact]
    public void EnvironmentSettings_AreChecked()
    {
        Assert.Null(Lifecycle3[2].Check());
        Assert.Contains("name", (Lifecycle3[2] with { Name = "Prod!" }).Check());
        Assert.Contains("deployer", (Lifecycle3[2] with { Deployers = ["analyst"] }).Check());
        Assert.Contains("approvals", (Lifecycle3[2] with { RequiredApprovals = 11 }).Check());
        Assert.Equal(QueuePolicy.NewestWins, EnvironmentSettings.ParseQueue("newest-wins"));
        Assert.Throws<ArgumentException>(() => EnvironmentSettings.ParseQueue("fifo"));
    }
}
