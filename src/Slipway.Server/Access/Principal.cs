using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>Who is calling: a user (through a web session or an API token), an agent, or a registration token.</summary>
public abstract record Principal
{
    /// <param name="TokenId">The API token used, or null for a web session.</param>
    public sealed record User(long Id, string Username, string? DisplayName, Permissions Permissions, long? TokenId, string? TokenName) : Principal
    {
        public bool ViaSession => TokenId is null;
    }

    /// <param name="NodeTarget">PROJECT/ENV/TARGET of a node agent (bound at registration), else null.</param>
    public sealed record Agent(long Id, string Name, string Pool, IReadOnlySet<string> Labels, string Status, string? NodeTarget = null) : Principal;
    /// <param name="AgentName">The one agent name the token registers (the embedded agent's), or null for an ordinary token.</param>
    public sealed record RegistrationToken(long Id, string Pool, bool PreApproved, string? AgentName = null) : Principal;

    public string Display => this switch
    {
        User u => $"user:{u.Username}",
        Agent a => $"agent:{a.Name}",
        RegistrationToken t => $"registration-token:{t.Id}",
        _ => "unknown",
    };
}
