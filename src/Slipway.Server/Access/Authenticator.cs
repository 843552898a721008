using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>
/// Turns the credential of a request into a <see cref="Principal"/>: an agent credential (slpa_), a
/// registration token (slpr_), a user's API token (slp_) from <c>Authorization: Bearer</c>, or the web
/// session cookie. Every lookup is against hashes and only finds live credentials of enabled users, so a
/// revocation, an expiry or a disabled account takes effect on the next request.
/// </summary>
public sealed class Authenticator(CredentialStore credentials, AgentStore agents, GrantStore grants, TimeProvider clock,
    Hosting.InitialAdminTokenFile initialToken)
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
                    agent.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(), agent.Status, agent.NodeTarget);
            }
            if (bearer.StartsWith(Tokens.RegistrationPrefix, StringComparison.Ordinal))
            {
                var reg = await agents.FindRegistrationTokenAsync(hash, now);
                return reg is null ? null : new Principal.RegistrationToken(reg.Id, reg.Pool, reg.PreApproved != 0, reg.AgentName);
            }
            var found = await credentials.FindTokenAsync(hash, now);
            if (found is not { } t) return null;
            await initialToken.NoteSignInAsync(hash, t.User.Username);
            var scope = t.Token.Scope is { Length: > 0 } s ? s.Split(',').ToHashSet(StringComparer.Ordinal) : null;
            return await UserAsync(t.User, scope, t.Token.Id, t.Token.Name);
        }
        var session = context.Request.Cookies[SessionCookie];
        if (string.IsNullOrEmpty(session) || session.Length > 200) return null;
        var user = await credentials.FindSessionUserAsync(Tokens.Hash(session), now);
        return user is null ? null : await UserAsync(user, null, null, null);
    }

    /// <summary>
    /// Why <see cref="AuthenticateAsync"/> found no principal, for the 401 answer and the audit entry: nothing sent, or the
    /// credential sent is unknown, expired, revoked, its user or agent disabled. It describes only the credential the
    /// caller sent (looked up by its hash), so it reveals nothing about any other; asked only after a refusal.
    /// </summary>
    public async Task<string> WhyRefusedAsync(HttpContext context)
    {
        const string SignIn = "; sign in again (slipway login)";
        var bearer = BearerToken(context) ?? BasicUserToken(context);
        if (bearer is null)
        {
            var session = context.Request.Cookies[SessionCookie];
            if (string.IsNullOrEmpty(session))
                return "a valid bearer token or session is required, and none was sent; sign in first (slipway login)";
            var state = session.Length > 200 ? null : await credentials.SessionStateAsync(Tokens.Hash(session));
            return state is null ? "the session is not known to this server" + SignIn
                : state.DisabledAt is not null ? "the session's user is disabled; ask an admin"
                : state.RevokedAt is not null ? "the session was ended (signed out or revoked)" + SignIn
                : "the session expired" + SignIn;
        }
        if (bearer.Length == 0) return "the credential sent is empty or not an API token" + SignIn;
        if (bearer.Length > 200) return "the token sent is not a valid token (too long)" + SignIn;
        var hash = Tokens.Hash(bearer);
        if (bearer.StartsWith(Tokens.AgentPrefix, StringComparison.Ordinal))
            return await agents.FindByCredentialAsync(hash) is { Status: "disabled" } agent
                ? $"agent '{agent.Name}' is disabled; an admin can approve it again or remove it"
                : "the agent credential is not known to this server (the agent was removed or registered again); register the agent with a new registration token";
        if (bearer.StartsWith(Tokens.RegistrationPrefix, StringComparison.Ordinal))
            return await agents.RegistrationTokenStateAsync(hash) switch
            {
                null => "the registration token is not known to this server; ask an admin for one (slipway agent token create)",
                { RevokedAt: not null } => "the registration token was revoked (by an admin, or once used if it was a one-time token); ask an admin for a new one (slipway agent token create)",
                { ExpiresAt: { } expired } => $"the registration token expired at {Time(expired)}; ask an admin for a new one (slipway agent token create)",
                _ => "the registration token is not valid; ask an admin for a new one (slipway agent token create)",
            };
        var token = await credentials.TokenStateAsync(hash);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        return token is null ? "the API token is not known to this server (mistyped, or from another server)" + SignIn
            // Disabling a user revokes their tokens too: say the cause.
            : token.DisabledAt is not null ? "the API token's user is disabled; ask an admin"
            : token.RevokedAt is { } revoked ? $"the API token was revoked at {Time(revoked)}" + SignIn
            : token.ExpiresAt is { } expires && expires <= now ? $"the API token expired at {Time(expires)}" + SignIn
            : "the API token is not valid" + SignIn;
    }

    private static string Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'");

    /// <summary>The credential sent with the request, if any (bearer or git's Basic password), never logged: for keying refusals.</summary>
    public static string? PresentedCredential(HttpContext context) =>
        BearerToken(context) is { } bearer ? bearer : BasicUserToken(context) is { Length: > 0 } basic ? basic : null;

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
