using Slipway.Core.Deployments.Rollout;

namespace Slipway.Core.Tests.Deployments.Rollout;

public sealed class RolloutPlannerTests
{
    private static DeploymentTarget T(string name, string roles = "web", string? lb = "app/", bool disabled = false) =>
        new(name, "127.0.0.1", 22, "deploy", roles.Split(',', StringSplitOptions.RemoveEmptyEntries), lb is null ? null : lb.EndsWith('/') ? lb + name : lb, null, disabled);

    private static RolloutDefinition Def(string window = "1", string maxFailures = "0", string role = "web") =>
        new(role, BatchSize.Parse(window)!.Value, BatchSize.Parse(maxFailures)!.Value, [new SshStep(1, "./activate")]);

    private static IReadOnlyList<DeploymentTarget> Fleet(int n, string prefix = "web-") => Enumerable.Range(1, n).Select(i => T(prefix + i)).ToList();

    private static string Shape(RolloutPlan plan) => string.Join(" | ", plan.Batches.Select(b => string.Join(",", b.Targets.Select(t => t.Name))));

    [Theory]
    // targets, window, expected batches (names in natural order: web-2 before web-10)
    [InlineData(4, "1", "web-1 | web-2 | web-3 | web-4")]
    [InlineData(4, "2", "web-1,web-2 | web-3,web-4")]
    [InlineData(5, "2", "web-1,web-2 | web-3,web-4 | web-5")]
    [InlineData(8, "25%", "web-1,web-2 | web-3,web-4 | web-5,web-6 | web-7,web-8")]
    [InlineData(5, "25%", "web-1 | web-2 | web-3 | web-4 | web-5")]          // 25 % of 5 rounds down to 1, as Ansible's serial
    [InlineData(3, "10%", "web-1 | web-2 | web-3")]                          // at least one
    [InlineData(11, "50%", "web-1,web-2,web-3,web-4,web-5 | web-6,web-7,web-8,web-9,web-10 | web-11")]
    public void Batches_FollowTheWindowInNaturalOrder(int targets, string window, string expected)
    {
        var (plan, refusals) = RolloutPlanner.Plan(Def(window), Fleet(targets), balancers: 1, minHealthy: 1);
        Assert.Empty(refusals);
        Assert.Equal(expected, Shape(plan!));
        Assert.Equal(Enumerable.Range(1, plan!.Batches.Count), plan.Batches.Select(b => b.Number));
    }

    [Theory]
    [InlineData(10, "0", 0)]
    [InlineData(10, "2", 2)]
    [InlineData(10, "20%", 2)]
    [InlineData(10, "100%", 10)]
    [InlineData(3, "5", 3)]
    public void MaxFailures_Resolves(int targets, string maxFailures, int expected) =>
        Assert.Equal(expected, RolloutPlanner.Plan(Def("1", maxFailures), Fleet(targets), 1, 1).Plan!.MaxFailures);

    [Fact]
    public void OnlyEnabledTargetsOfTheRole()
    {
        var targets = new[] { T("web-1"), T("web-2", disabled: true), T("worker-1", "worker", lb: null), T("both-1", "web,worker") };
        var (plan, _) = RolloutPlanner.Plan(Def("1"), targets, 1, 1);
        Assert.Equal("both-1 | web-1", Shape(plan!));
        Assert.Equal("both-1 | worker-1", Shape(RolloutPlanner.Plan(Def("1", role: "worker"), targets, 1, 1).Plan!));
    }

    [Theory]
    [InlineData("db", "role 'db' matches no enabled target; the environment's roles are: web, worker")]
    [InlineData("old", "role 'old' matches no enabled target (1 disabled)")]
    public void ARoleMatchingNoTarget_IsRefusedWhenPlanning(string role, string message)
    {
        var targets = new[] { T("web-1"), T("worker-1", "worker"), T("old-1", "old", disabled: true) };
        var (plan, refusals) = RolloutPlanner.Plan(Def(role: role), targets, 1, 1);
        Assert.Null(plan);
        var refusal = Assert.Single(refusals);
        Assert.Equal(RolloutPlanner.TargetsRule, refusal.Rule);
        Assert.StartsWith(message, refusal.Message);
    }

    [Fact]
    public void AnEnvironmentWithoutTargets_SaysSo() =>
        Assert.Contains("the environment has no targets", RolloutPlanner.Plan(Def(), [], 1, 1).Refusals.Single().Message);

    [Theory]
    // targets, window, min_healthy, refused?
    [InlineData(4, "100%", 1, true)]   // the whole backend at once: never
    [InlineData(4, "4", 1, true)]
    [InlineData(4, "3", 1, false)]
    [InlineData(4, "3", 2, true)]
    [InlineData(4, "2", 2, false)]
    [InlineData(6, "50%", 3, false)]
    [InlineData(6, "50%", 4, true)]
    [InlineData(1, "1", 1, true)]      // a single server behind a balancer cannot be updated without downtime
    [InlineData(4, "4", 0, true)]      // min_healthy is at least 1, whatever is configured
    public void ABatchNeverLeavesFewerThanMinHealthyInRotation(int targets, string window, int minHealthy, bool refused)
    {
        var (plan, refusals) = RolloutPlanner.Plan(Def(window), Fleet(targets), balancers: 1, minHealthy);
        Assert.Equal(refused, plan is null);
        if (refused) Assert.Equal(RolloutPlanner.MinHealthyRule, Assert.Single(refusals).Rule);
    }

    [Fact]
    public void WithoutBalancers_TheWindowIsTheOperatorsChoice()
    {
        var (plan, refusals) = RolloutPlanner.Plan(Def("100%"), Fleet(3), balancers: 0, minHealthy: 1);
        Assert.Empty(refusals);
        Assert.Equal("web-1,web-2,web-3", Shape(plan!));
        Assert.Equal([TargetActionKind.Step], plan!.ActionsFor(plan.Targets.First()).Select(a => a.Kind));
    }

    [Fact]
    public void DisabledServersCountAsOutOfRotation()
    {
        // 3 web servers in the backend, one disabled: a window of 2 would leave none.
        var targets = new[] { T("web-1"), T("web-2"), T("web-3", disabled: true) };
        Assert.Contains("leaving 0", RolloutPlanner.Plan(Def("2"), targets, 1, 1).Refusals.Single().Message);
    }

    [Fact]
    public void ABackendIsCountedWithServersOfOtherRoles()
    {
        // A canary role of one server, in a backend of four: taking it out leaves three.
        var targets = new[] { T("web-1", "web,canary"), T("web-2"), T("web-3"), T("web-4") };
        Assert.Empty(RolloutPlanner.Plan(Def(role: "canary"), targets, 1, 3).Refusals);
        Assert.NotEmpty(RolloutPlanner.Plan(Def(role: "canary"), targets, 1, 4).Refusals);
    }

    [Fact]
    public void ActionsBehindABalancer_DrainMaintStepsReady()
    {
        var def = Def() with { Steps = [new SshStep(1, "a"), new HealthStep(2, "http://h/", 200, TimeSpan.FromSeconds(5))] };
        var targets = new[] { T("web-1"), T("web-2"), T("cron-1", "web", lb: null) };
        var plan = RolloutPlanner.Plan(def, targets, 1, 1).Plan!;
        Assert.Equal([TargetActionKind.Drain, TargetActionKind.Maint, TargetActionKind.Step, TargetActionKind.Step, TargetActionKind.Ready],
            plan.ActionsFor(targets[0]).Select(a => a.Kind));
        Assert.Equal([0, 1], plan.ActionsFor(targets[0]).Where(a => a.Kind == TargetActionKind.Step).Select(a => a.StepIndex!.Value));
        Assert.Equal([TargetActionKind.Step, TargetActionKind.Step], plan.ActionsFor(targets[2]).Select(a => a.Kind));
    }

    [Theory]
    [InlineData("web-2", "web-10", -1)]
    [InlineData("web-10", "web-9", 1)]
    [InlineData("a", "b", -1)]
    [InlineData("web-01", "web-1", -1)]
    [InlineData("h1", "h1", 0)]
    public void NaturalOrder_ComparesDigitRunsAsNumbers(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(NaturalOrder.Instance.Compare(a, b)));
}
