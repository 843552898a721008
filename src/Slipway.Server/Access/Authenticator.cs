using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;
using Slipway.Server.Storage;

namespace Slipway.Server.Access;

/// <summary>
/// Turns the credential of a request into a <see cref="Principal"/>: an agent credential (slpa_), a
/// registration token (slpr_), a user's API token (slp_) from <c>Authorization: Bearer</c>, or the web
/// session cookie. Every lookup is against hashes and only finds live credentials of enabled users, so a
/// revocation, an expiry or a disabled account takes effect on the next request.
/// </summary>
public sealed class Authenticator(CredentialStore credentials, AgentStore agents, GrantStore grants, TimeProvider clock)
{
    public const string SessionCookie = "slipway_session";

    public async Task<Principal?> AuthenticateAsync(HttpContext context)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var bearer = BearerToken(context) ?? BasicUserToken(context);
        if (bearer is not null)
        {
            if (bearer.Length is 0 or > 200) return null;
            var hash = Tokens.Hash(bearer);
            if (bearer.StartsWith(Tokens.AgentPrefix, StringComparison.Ordinal))
            {
                var agent = await agents.FindByCredentialAsync(hash);
                if (agent is null || agent.Status == "disabled") return null;
                return new Principal.Agent(agent.Id, agent.Name, agent.Pool,
                    agent.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(), agent.Status);
            }
            if (bearer.StartsWith(Tokens.RegistrationPrefix, StringComparison.Ordinal))
            {
                var reg = await agents.FindRegistrationTokenAsync(hash);
                return reg is null ? null : new Principal.RegistrationToken(reg.Id, reg.Pool, reg.PreApproved != 0);
            }
            var found = await credentials.FindTokenAsync(hash, now);
            if (found is not { } t) return null;
            var scope = t.Token.Scope is { Length: > 0 } s ? s.Split(',').ToHashSet(StringComparer.Ordinal) : null;
            return await UserAsync(t.User, scope, t.Token.Id, t.Token.Name);
        }
        var session = context.Request.Cookies[SessionCookie];
        if (string.IsNullOrEmpty(session) || session.Length > 200) return null;
        var user = await credentials.FindSessionUserAsync(Tokens.Hash(session), now);
        return user is null ? null : await UserAsync(user, null, null, null);
    }

    /// <summary>The principal of a user with their current grants (used by sign-in too).</summary>
    public async Task<Principal.User> UserAsync(UserRow user, IReadOnlySet<string>? tokenScope, long? tokenId, string? tokenName)
    {
        var rows = await grants.ForUserAsync(user.Id);
        var custom = rows.Any(g => BuiltInRoles.Find(g.Role) is null)
            ? (await grants.CustomRolesAsync()).ToDictionary(r => r.Name, ToRole)
            : [];
        var permissions = new Permissions(rows.Select(g => new Grant(g.Role, g.Project, g.Environment)),
            name => BuiltInRoles.Find(name) ?? custom.GetValueOrDefault(name), tokenScope);
        return new Principal.User(user.Id, user.Username, user.DisplayName, permissions, tokenId, tokenName);
    }

    public static Role ToRole(RoleRow row) =>
        new(row.Name, row.Description, row.Actions.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal), BuiltIn: false);

    /// <summary>
    /// HTTP Basic (what git sends for <c>http://x:TOKEN@host/git/NAME.git</c>): any user name, a user's API token
    /// (slp_) as the password. Agent credentials and registration tokens are never accepted this way.
    /// </summary>
    private static string? BasicUserToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || header.Length > 600) return null;
        string decoded;
        try { decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim())); }
        catch (FormatException) { return ""; }
        var colon = decoded.IndexOf(':');
        var password = colon < 0 ? "" : decoded[(colon + 1)..];
        // Only a user's API token: an agent credential (slpa_), a registration token (slpr_) or anything else is
        // refused (an empty token authenticates nobody).
        var isUserToken = password.StartsWith(Tokens.UserPrefix, StringComparison.Ordinal)
                          && !password.StartsWith(Tokens.AgentPrefix, StringComparison.Ordinal)
                          && !password.StartsWith(Tokens.RegistrationPrefix, StringComparison.Ordinal)
                          && !password.StartsWith(Tokens.SessionPrefix, StringComparison.Ordinal);
        return isUserToken ? password : "";
    }

    private static string? BearerToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}
