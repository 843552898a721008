namespace Slipway.Server.Access;

// Row shapes of the access tables (migration 0002). Integers are long for both dialects.

public sealed class UserRow
{
    public long Id { get; set; }
    public string Username { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Email { get; set; }
    public string? PasswordHash { get; set; }
    public long? DisabledAt { get; set; }
    public long CreatedAt { get; set; }
    public bool IsDisabled => DisabledAt is not null;
}

public sealed class ApiTokenRow
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public string Name { get; set; } = "";
    public string? Scope { get; set; }
    public long CreatedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? RevokedAt { get; set; }
}

public sealed class GrantRow
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public string Username { get; set; } = "";
    public string Role { get; set; } = "";
    public string? Project { get; set; }
    public string? Environment { get; set; }
    public string GrantedBy { get; set; } = "";
    public long CreatedAt { get; set; }
}

public sealed class RoleRow
{
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Actions { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public long CreatedAt { get; set; }
}
