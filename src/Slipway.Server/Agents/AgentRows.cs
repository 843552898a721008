namespace Slipway.Server.Agents;

// Row shapes as read by Dapper (snake_case columns -> PascalCase). Every integer is long so the same
// class reads SQLite INTEGER and PostgreSQL BIGINT.

public sealed class AgentRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Pool { get; set; } = "";
    public string Labels { get; set; } = "";
    public long Slots { get; set; }
    public string Status { get; set; } = "";
    public long ProtocolVersion { get; set; }
    public long CreatedAt { get; set; }
    public long? LastSeenAt { get; set; }
    public long RunningJobs { get; set; }
    /// <summary>PROJECT/ENV/TARGET for a node agent (bound at registration), else null.</summary>
    public string? NodeTarget { get; set; }
}

public sealed class RegistrationTokenRow
{
    public long Id { get; set; }
    public string Pool { get; set; } = "";
    public long PreApproved { get; set; }
    public long? RevokedAt { get; set; }
    public long CreatedAt { get; set; }
    /// <summary>When it stops admitting agents (unix ms); null: never.</summary>
    public long? ExpiresAt { get; set; }
    /// <summary>The one agent name this token registers (and may take over), or null for an ordinary token.</summary>
    public string? AgentName { get; set; }
}
