namespace Slipway.Server.Access;

/// <summary>
/// The single place that decides whether a principal may perform an action. Pure.
/// Issue 3 replaces the user rule with roles and grants; the call sites stay the same.
/// </summary>
public static class Authorizer
{
    public static bool IsAllowed(Principal principal, string action) => principal switch
    {
        Principal.User user => Actions.UserActions.Contains(action) && (user.IsAdmin || Actions.ReadActions.Contains(action)),
        Principal.Agent agent => action == Actions.AgentWork && agent.Status == "approved",
        Principal.RegistrationToken => action == Actions.AgentRegister,
        _ => false,
    };
}
