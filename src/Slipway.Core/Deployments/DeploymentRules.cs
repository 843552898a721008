using Slipway.Core.Environments;
using Slipway.Core.Policies;

namespace Slipway.Core.Deployments;

/// <summary>A request to deploy: who, what, where, and whether it claims an emergency during a freeze.</summary>
/// <param name="Roles">The initiator's roles that apply to this project (for the environment's deployer list).</param>
/// <param name="BreakGlassReason">Set for an emergency deployment during a freeze.</param>
public sealed record DeploymentRequest(string Initiator, IReadOnlySet<string> Roles, string Release, EnvironmentSettings Environment,
    bool MayBreakGlass, string? BreakGlassReason);

/// <summary>One rule that refuses a deployment: its id (stable) and why.</summary>
public sealed record DeploymentRefusal(string Rule, string Message)
{
    public override string ToString() => $"{Rule}: {Message}";
}

/// <summary>
/// Whether a deployment may be requested, approved and started. Pure: the server gathers the facts. Rule ids:
/// <c>deployer</c> (the environment's deployer list), <c>lifecycle</c> (succeeded on the environment before),
/// <c>freeze</c> (a freeze window in force, unless an emergency by a break-glass holder with a reason),
/// <c>initiator-not-approver</c>, <c>actor-not-author</c> (no author or merger of a change in the release approves),
/// <c>distinct-approvers</c>.
/// </summary>
public static class DeploymentRules
{
    public const string Deployer = "deployer";
    public const string LifecycleOrder = "lifecycle";
    public const string Freeze = "freeze";
    public const int MinimumBreakGlassReasonLength = 10;

    /// <summary>Every rule that refuses the request (empty: it may be created), and whether it is an emergency past a freeze.</summary>
    public static (IReadOnlyList<DeploymentRefusal> Refusals, bool Emergency) CheckRequest(DeploymentRequest request,
        IReadOnlyList<EnvironmentSettings> lifecycle, IReadOnlySet<string> succeededOn, IReadOnlyList<FreezeWindow> freezes, DateTimeOffset now)
    {
        var refusals = new List<DeploymentRefusal>();
        if (!MayDeploy(request.Environment, request.Initiator, request.Roles))
            refusals.Add(new(Deployer, $"{request.Initiator} is not among those who may deploy to '{request.Environment.Name}' ({string.Join(", ", request.Environment.Deployers)})"));
        if (Lifecycle.CheckOrder(lifecycle, request.Environment.Name, request.Release, succeededOn) is { } order)
            refusals.Add(new(LifecycleOrder, order));
        var emergency = false;
        if (Freezes.InForce(freezes, now) is var (window, until))
        {
            var reason = request.BreakGlassReason?.Trim() ?? "";
            if (!request.MayBreakGlass || reason.Length < MinimumBreakGlassReasonLength)
                refusals.Add(new(Freeze, $"'{request.Environment.Name}' is frozen by '{window.Name}' until {until:yyyy-MM-dd HH:mm} UTC" +
                    (request.BreakGlassReason is null ? "" : request.MayBreakGlass
                        ? $"; an emergency deployment needs a reason of at least {MinimumBreakGlassReasonLength} characters"
                        : $"; {request.Initiator} does not hold deploy.break-glass")));
            else emergency = true;
        }
        return (refusals, emergency);
    }

    /// <summary>An empty deployer list lets anyone who may start deployments on the project deploy here.</summary>
    public static bool MayDeploy(EnvironmentSettings environment, string user, IReadOnlySet<string> roles) =>
        environment.Deployers.Count == 0 || environment.Deployers.Any(d => EnvironmentSettings.ParseDeployer(d) switch
        {
            ("user", var name) => string.Equals(name, user, StringComparison.OrdinalIgnoreCase),
            ("role", var name) => roles.Contains(name),
            _ => false,
        });

    /// <summary>
    /// Whether <paramref name="approver"/> may approve: never the initiator, never an author or merger of a change in
    /// the release, and holding the environment's approver role when it names one.
    /// </summary>
    public static PolicyDecision MayApprove(string approver, IReadOnlySet<string> approverRoles, string initiator,
        IReadOnlyCollection<string> authorsAndMergers, EnvironmentSettings environment)
    {
        if (Policy.InitiatorDoesNotApprove(initiator, approver) is PolicyDecision.Refused own) return own;
        if (Policy.ActorIsNotAuthor(approver, authorsAndMergers, "a change in this release (or merged one)") is PolicyDecision.Refused author) return author;
        if (environment.ApproverRole is { } role && !approverRoles.Contains(role))
            return PolicyDecision.Refuse(PolicyRules.DistinctApprovers, $"approvals for '{environment.Name}' must come from role '{role}', which {approver} does not hold");
        return PolicyDecision.Allow;
    }

    /// <summary>Whether the approvals given are enough for the deployment to leave awaiting-approval.</summary>
    public static PolicyDecision Approved(IReadOnlyList<Approval> approvals, EnvironmentSettings environment) =>
        Policy.DistinctApprovers(approvals, environment.RequiredApprovals, environment.ApproverRole);
}
