namespace Slipway.Core.Deployments.Rollout;

/// <summary>One thing done to one target, in order. <see cref="StepIndex"/> points into the rollout's steps for <see cref="TargetActionKind.Step"/>.</summary>
public sealed record TargetAction(TargetActionKind Kind, int? StepIndex = null);

public enum TargetActionKind
{
    /// <summary>HAProxy <c>state drain</c> on every balancer, then wait until the server's sessions reach 0 (or the drain timeout).</summary>
    Drain,
    /// <summary>HAProxy <c>state maint</c>: no traffic at all while the steps run.</summary>
    Maint,
    /// <summary>One of the pipeline file's steps.</summary>
    Step,
    /// <summary>HAProxy <c>state ready</c>, then wait until every balancer reports the server UP.</summary>
    Ready,
}

/// <summary>The targets taken out and updated together. Numbered from 1.</summary>
public sealed record RolloutBatch(int Number, IReadOnlyList<DeploymentTarget> Targets);

/// <summary>
/// An ordered rollout: batches of targets, each target's actions, and how many targets may fail before the rollout
/// stops. Built only by <see cref="RolloutPlanner.Plan"/>, so every plan already respects the environment's
/// <c>min_healthy</c>.
/// </summary>
public sealed record RolloutPlan(IReadOnlyList<RolloutBatch> Batches, int Window, int MaxFailures, IReadOnlyList<RolloutStep> Steps, bool UsesBalancer)
{
    public IEnumerable<DeploymentTarget> Targets => Batches.SelectMany(b => b.Targets);

    /// <summary>
    /// What happens to <paramref name="target"/>: behind a balancer drain, maint, the steps, ready; without one only
    /// the steps (the pipeline's health step is then the only check).
    /// </summary>
    public IReadOnlyList<TargetAction> ActionsFor(DeploymentTarget target)
    {
        var behind = UsesBalancer && target.BalancerServer is not null;
        var actions = new List<TargetAction>();
        if (behind) { actions.Add(new(TargetActionKind.Drain)); actions.Add(new(TargetActionKind.Maint)); }
        for (var i = 0; i < Steps.Count; i++) actions.Add(new(TargetActionKind.Step, i));
        if (behind) actions.Add(new(TargetActionKind.Ready));
        return actions;
    }
}

/// <summary>Why a rollout cannot be planned, naming its rule (<c>targets</c>, <c>min-healthy</c>).</summary>
public sealed record PlanRefusal(string Rule, string Message)
{
    public override string ToString() => $"{Rule}: {Message}";
}

/// <summary>
/// Turns a release's rolling definition and an environment's targets into an ordered plan, or says why it cannot.
/// Pure: the deployment conductor calls it before anything runs, and the deploy agent carries the plan out.
/// </summary>
public static class RolloutPlanner
{
    public const string TargetsRule = "targets";
    public const string MinHealthyRule = "min-healthy";

    /// <param name="rollout">The release's <c>deploy:</c> rolling part.</param>
    /// <param name="targets">Every target of the environment (disabled ones included: they count as out of rotation).</param>
    /// <param name="balancers">How many load balancers the environment names (0: no drain/enable around the steps).</param>
    /// <param name="minHealthy">The fewest servers of a backend that must stay in rotation while a batch is out (at least 1).</param>
    public static (RolloutPlan? Plan, IReadOnlyList<PlanRefusal> Refusals) Plan(
        RolloutDefinition rollout, IReadOnlyList<DeploymentTarget> targets, int balancers, int minHealthy)
    {
        var chosen = targets.Where(t => !t.Disabled && t.Roles.Contains(rollout.TargetRole, StringComparer.Ordinal))
            .OrderBy(t => t.Name, NaturalOrder.Instance).ToList();
        if (chosen.Count == 0)
        {
            var disabled = targets.Count(t => t.Disabled && t.Roles.Contains(rollout.TargetRole, StringComparer.Ordinal));
            var roles = targets.Where(t => !t.Disabled).SelectMany(t => t.Roles).Distinct().Order(StringComparer.Ordinal).ToList();
            return (null, [new PlanRefusal(TargetsRule, $"role '{rollout.TargetRole}' matches no enabled target" +
                (disabled > 0 ? $" ({disabled} disabled)" : "") +
                (roles.Count > 0 ? $"; the environment's roles are: {string.Join(", ", roles)}" : "; the environment has no targets"))]);
        }
        var window = rollout.Window.Resolve(chosen.Count, atLeastOne: true);
        var maxFailures = rollout.MaxFailures.Resolve(chosen.Count, atLeastOne: false);
        var batches = chosen.Chunk(window).Select((b, i) => new RolloutBatch(i + 1, b)).ToList();
        var usesBalancer = balancers > 0;
        var refusals = usesBalancer ? CheckMinHealthy(batches, targets, Math.Max(1, minHealthy)) : [];
        return refusals.Count > 0 ? (null, refusals) : (new RolloutPlan(batches, window, maxFailures, rollout.Steps, usesBalancer), []);
    }

    /// <summary>
    /// Every batch leaves at least <paramref name="minHealthy"/> servers of each backend it touches in rotation,
    /// counting the backend's servers among the environment's enabled targets; never a whole backend, whatever the window.
    /// </summary>
    private static List<PlanRefusal> CheckMinHealthy(IReadOnlyList<RolloutBatch> batches, IReadOnlyList<DeploymentTarget> all, int minHealthy)
    {
        var refusals = new List<PlanRefusal>();
        var sizes = all.Where(t => !t.Disabled && t.Backend is not null).GroupBy(t => t.Backend!).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (backend, size) in sizes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var widest = batches.Max(b => b.Targets.Count(t => t.Backend == backend));
            if (widest == 0) continue;
            if (size - widest < minHealthy)
                refusals.Add(new PlanRefusal(MinHealthyRule,
                    $"a batch would take {widest} of the {size} servers of backend '{backend}' out of rotation, leaving {size - widest}; " +
                    $"min_healthy is {minHealthy}: use a window of at most {Math.Max(0, size - minHealthy)}" +
                    (size - minHealthy < 1 ? " (impossible: add servers or lower min_healthy)" : "")));
        }
        return refusals;
    }
}

/// <summary>Orders <c>web-2</c> before <c>web-10</c>: digit runs compare as numbers.</summary>
public sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return string.CompareOrdinal(x, y);
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int si = i, sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i])) i++;
                while (j < y.Length && char.IsAsciiDigit(y[j])) j++;
                var a = x[si..i].TrimStart('0');
                var b = y[sj..j].TrimStart('0');
                var c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
                if (c != 0) return c;
            }
            else
            {
                var c = x[i].CompareTo(y[j]);
                if (c != 0) return c;
                i++; j++;
            }
        }
        return (x.Length - i).CompareTo(y.Length - j) is var r && r != 0 ? r : string.CompareOrdinal(x, y);
    }
}
