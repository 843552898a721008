using Slipway.Contracts.Api;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>Access rows to API shapes. Never maps a password hash or a token hash.</summary>
public static class AccessMapping
{
    public static GrantDto ToDto(this GrantRow g) => new(g.Role, g.Project, g.Environment, g.GrantedBy, UnixMs.To(g.CreatedAt));

    public static UserDto ToDto(this UserRow u, IEnumerable<GrantRow> grants) =>
        new(u.Username, u.DisplayName, u.Email, u.IsDisabled, u.PasswordHash is not null, UnixMs.To(u.CreatedAt), grants.Select(g => g.ToDto()).ToList());

    public static TokenDto ToDto(this ApiTokenRow t, long now) =>
        new(t.Id, t.Name, Scope(t.Scope), UnixMs.To(t.CreatedAt), UnixMs.To(t.ExpiresAt), UnixMs.To(t.RevokedAt),
            t.RevokedAt is null && (t.ExpiresAt is null || t.ExpiresAt > now));

    public static IReadOnlyList<string>? Scope(string? scope) => scope is { Length: > 0 } s ? s.Split(',') : null;

    public static AuditEntryDto ToDto(this AuditEntry e) =>
        new(e.Sequence, e.At, e.ActorKind, e.Actor, e.Source, e.Action, e.Target, e.Outcome, e.Detail, e.RequestId, e.PreviousHash, e.Hash);
}
