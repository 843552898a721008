using System.Text.RegularExpressions;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>
/// One's own account (<see cref="TokensApi"/>, <see cref="AccessPages"/>): API tokens (create, revoke) and the password.
/// A scoped token may do neither to widen itself; every change is audited.
/// </summary>
public sealed partial class AccountService(CredentialStore credentials, UserStore users, ServerOptions options, TimeProvider clock)
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")]
    internal static partial Regex TokenName();

    /// <summary>A new API token of the actor's, never wider than what they hold (nor than the token they use); shown once.</summary>
    public async Task<TokenCreatedDto> CreateTokenAsync(Actor actor, CreateTokenRequest request)
    {
        var me = actor.User;
        var name = request.Name?.Trim() ?? "";
        if (!TokenName().IsMatch(name)) throw new ArgumentException("a token name is 1-64 letters, digits, spaces, '.', '_', '@' or '-'");
        var days = request.ExpiresInDays ?? options.DefaultTokenDays;
        if (days is < 1 or > TokensApi.MaxTokenDays) throw new ArgumentException($"a token expires in 1 to {TokensApi.MaxTokenDays} days");
        string? scope = null;
        if (request.Scope is { Count: > 0 })
        {
            var asked = request.Scope.Select(s => s.Trim()).Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
            var unknown = asked.Where(a => !Actions.UserActions.Contains(a)).Order().ToList();
            if (unknown.Count > 0) throw new ArgumentException($"{(unknown.Count == 1 ? "not an action" : "not actions")} a role or token may hold: {string.Join(", ", unknown)} (slipway role actions lists them)");
            var beyond = asked.Except(me.Permissions.Reachable()).Order().ToList();
            if (beyond.Count > 0) throw new PolicyRefusedException($"a token's scope must be a subset of your permissions; you do not hold {string.Join(", ", beyond)}");
            scope = string.Join(',', asked.Order());
        }
        // A token made with a scoped token is never wider than it: asked without a scope, it inherits the scope.
        else if (me.Permissions.TokenScope is { } inherited)
            scope = string.Join(',', inherited.Order());
        var token = Tokens.New(Tokens.UserPrefix);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var expires = now + (long)TimeSpan.FromDays(days).TotalMilliseconds;
        var id = await credentials.CreateTokenAsync(me.Id, name, Tokens.Hash(token), expires, scope, now)
                 ?? throw new ConflictException($"you already have an active token named '{name}'");
        await actor.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"token:{id}",
            $"API token '{name}' created, expires in {days} day{(days == 1 ? "" : "s")}" + (scope is null ? "" : $", scope {scope}"));
        return new TokenCreatedDto(id, name, token, UnixMs.To(expires), AccessMapping.Scope(scope));
    }

    public async Task RevokeTokenAsync(Actor actor, long id)
    {
        RefuseScopedToken(actor, "revoke API tokens");
        if (!await credentials.RevokeTokenAsync(actor.User.Id, id, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new KeyNotFoundException($"you have no active token #{id}");
        await actor.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"token:{id}", "API token revoked");
    }

    /// <summary>
    /// Changes one's own password (the current one proves it, once there is one); every other web session ends, the
    /// one asking (<paramref name="session"/>, the cookie's value when it came through the web) stays.
    /// </summary>
    public async Task ChangePasswordAsync(Actor actor, SetPasswordRequest request, string? session)
    {
        RefuseScopedToken(actor, "change the password");
        var me = actor.User;
        var user = (await users.GetAsync(me.Id))!;
        // A user who has a password proves it again; the first password can be set by whoever holds a valid token.
        if (user.PasswordHash is not null && !Passwords.Verify(user.PasswordHash, request.CurrentPassword ?? ""))
            throw new PolicyRefusedException("the current password is wrong");
        Passwords.CheckAcceptable(request.Password, user.Username);
        await users.SetPasswordAsync(user.Id, Passwords.Hash(request.Password), clock.GetUtcNow().ToUnixTimeMilliseconds(),
            me.ViaSession && !string.IsNullOrEmpty(session) ? Tokens.Hash(session) : null);
        await actor.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"user:{user.Username}", "own password changed; other web sessions ended");
    }

    /// <summary>
    /// A scoped token is for automation: it may not widen itself by setting a password (which opens full web
    /// sessions) or take away the user's other credentials.
    /// </summary>
    private static void RefuseScopedToken(Actor actor, string what)
    {
        if (actor.User.Permissions.TokenScope is not null)
            throw new PolicyRefusedException($"a scoped API token may not {what}; sign in, or use an unscoped token");
    }
}
