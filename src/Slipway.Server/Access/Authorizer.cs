using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>
/// The single place that decides whether a principal may perform an action on a scope. Pure.
/// Users are decided by their <see cref="Permissions"/> (roles, grants, token scope); agents only ever take
/// agent actions, and only once approved; a registration token only registers. No principal crosses kinds.
/// </summary>
public static class Authorizer
{
    public static AccessDecision Decide(Principal principal, string action, Scope scope)
    {
        var info = Actions.Get(action);
        return principal switch
        {
            Principal.User user when info.Kind != ActionKind.User =>
                AccessDecision.Deny($"{principal.Display} may not {action}: only agents take agent actions"),
            Principal.User user => user.Permissions.Can(action, scope)
                ? AccessDecision.Allow
                : AccessDecision.Deny($"{principal.Display} may not {action}{On(scope)}" +
                    // Only when the token's scope is the reason: an unscoped token's refusal is about the user's grants.
                    (user.Permissions.TokenScope is { } tokenScope && !tokenScope.Contains(action) ? " (this token's scope does not include it)" : "")),
            Principal.Agent agent when action is Actions.AgentWork or Actions.AgentHeartbeat => agent.Status == "approved"
                ? AccessDecision.Allow
                : AccessDecision.Deny(agent.Status == "pending" ? "this agent is waiting for an admin's approval" : $"this agent is {agent.Status}"),
            Principal.RegistrationToken when action == Actions.AgentRegister => AccessDecision.Allow,
            _ => AccessDecision.Deny($"{principal.Display} may not {action}"),
        };
    }

    private static string On(Scope scope) =>
        scope.Shown is { } shown ? $" on {shown}"
        : scope.Project is null ? ""
        : scope.Environment is null ? $" on project '{scope.Project}'"
        : scope.Environment == Scope.AnyEnvironment ? $" on project '{scope.Project}' (in any of its environments)"
        : $" on {scope.Project}/{scope.Environment}";
}

public sealed record AccessDecision(bool Allowed, string? Reason)
{
    public static readonly AccessDecision Allow = new(true, null);
    public static AccessDecision Deny(string reason) => new(false, reason);
}
