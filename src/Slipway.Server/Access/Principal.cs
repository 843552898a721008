namespace Slipway.Server.Access;

/// <summary>Who is calling: a user (through an API token or the UI cookie), an agent, or a registration token.</summary>
public abstract record Principal
{
    public sealed record User(long Id, string Username, bool IsAdmin) : Principal;
    public sealed record Agent(long Id, string Name, string Pool, IReadOnlySet<string> Labels, string Status) : Principal;
    public sealed record RegistrationToken(long Id, string Pool, bool PreApproved) : Principal;

    public string Display => this switch
    {
        User u => $"user:{u.Username}",
        Agent a => $"agent:{a.Name}",
        RegistrationToken t => $"registration-token:{t.Id}",
        _ => "unknown",
    };
}
