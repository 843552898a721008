using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>
/// One's own account: /api/v1/me (who am I, what may I do, change my password), /api/v1/tokens (my API tokens),
/// and /api/v1/auth/login (password to API token, for `slipway login`).
/// </summary>
public static partial class TokensApi
{
    public const int MaxTokenDays = 365;

    public static void MapTokensApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/me", Me).RequireAction(Actions.AccountSelf);
        api.MapPost("/me/password", ChangePasswordAsync).RequireAction(Actions.AccountSelf);
        api.MapGet("/tokens", async (HttpContext context, CredentialStore credentials, TimeProvider clock) =>
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            return (await credentials.ListTokensAsync(context.RequireUser().Id)).Select(t => t.ToDto(now));
        }).RequireAction(Actions.AccountSelf);
        api.MapPost("/tokens", CreateAsync).RequireAction(Actions.AccountSelf);
        api.MapDelete("/tokens/{id:long}", RevokeAsync).RequireAction(Actions.AccountSelf);
        api.MapPost("/auth/login", LoginAsync).RequireAction(Actions.SessionCreate);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")]
    private static partial Regex TokenName();

    private static async Task<MeDto> Me(HttpContext context, UserStore users, GrantStore grants)
    {
        var me = context.RequireUser();
        var user = (await users.GetAsync(me.Id))!;
        return new MeDto(user.Username, user.DisplayName, user.Email, (await grants.ForUserAsync(me.Id)).Select(g => g.ToDto()).ToList(),
            me.Permissions.Reachable().Order().ToList(), me.TokenName);
    }

    public static async Task<TokenCreatedDto> CreateTokenAsync(HttpContext context, CreateTokenRequest request, CredentialStore credentials,
        ServerOptions options, TimeProvider clock)
    {
        var me = context.RequireUser();
        var name = request.Name?.Trim() ?? "";
        if (!TokenName().IsMatch(name)) throw new ArgumentException("a token name is 1-64 letters, digits, spaces, '.', '_', '@' or '-'");
        var days = request.ExpiresInDays ?? options.DefaultTokenDays;
        if (days is < 1 or > MaxTokenDays) throw new ArgumentException($"a token expires in 1 to {MaxTokenDays} days");
        string? scope = null;
        if (request.Scope is { Count: > 0 })
        {
            var asked = request.Scope.Select(s => s.Trim()).Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
            var unknown = asked.Where(a => !Actions.UserActions.Contains(a)).Order().ToList();
            if (unknown.Count > 0) throw new ArgumentException($"not user actions of the catalogue: {string.Join(", ", unknown)}");
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
        await context.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"token:{id}",
            $"API token '{name}' created, expires in {days} day{(days == 1 ? "" : "s")}" + (scope is null ? "" : $", scope {scope}"));
        return new TokenCreatedDto(id, name, token, UnixMs.To(expires), AccessMapping.Scope(scope));
    }

    private static async Task<IResult> CreateAsync(CreateTokenRequest request, HttpContext context, CredentialStore credentials,
        ServerOptions options, TimeProvider clock) =>
        Results.Created("/api/v1/tokens", await CreateTokenAsync(context, request, credentials, options, clock));

    public static async Task RevokeTokenAsync(HttpContext context, long id, CredentialStore credentials, TimeProvider clock)
    {
        RefuseScopedToken(context, "revoke API tokens");
        if (!await credentials.RevokeTokenAsync(context.RequireUser().Id, id, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new KeyNotFoundException($"you have no active token #{id}");
        await context.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"token:{id}", "API token revoked");
    }

    private static async Task<IResult> RevokeAsync(long id, HttpContext context, CredentialStore credentials, TimeProvider clock)
    {
        await RevokeTokenAsync(context, id, credentials, clock);
        return Results.NoContent();
    }

    internal static async Task<IResult> ChangePasswordAsync(SetPasswordRequest request, HttpContext context, UserStore users, TimeProvider clock)
    {
        RefuseScopedToken(context, "change the password");
        var me = context.RequireUser();
        var user = (await users.GetAsync(me.Id))!;
        // A user who has a password proves it again; the first password can be set by whoever holds a valid token.
        if (user.PasswordHash is not null && !Passwords.Verify(user.PasswordHash, request.CurrentPassword ?? ""))
            throw new PolicyRefusedException("the current password is wrong");
        Passwords.CheckAcceptable(request.Password, user.Username);
        var session = context.Request.Cookies[Authenticator.SessionCookie];
        await users.SetPasswordAsync(user.Id, Passwords.Hash(request.Password), clock.GetUtcNow().ToUnixTimeMilliseconds(),
            me.ViaSession && !string.IsNullOrEmpty(session) ? Tokens.Hash(session) : null);
        await context.AuditAsync(Actions.AccountSelf, AuditOutcomes.Succeeded, $"user:{user.Username}", "own password changed; other web sessions ended");
        return Results.NoContent();
    }

    /// <summary>
    /// A scoped token is for automation: it may not widen itself by setting a password (which opens full web
    /// sessions) or take away the user's other credentials.
    /// </summary>
    private static void RefuseScopedToken(HttpContext context, string what)
    {
        if (context.RequireUser().Permissions.TokenScope is not null)
            throw new PolicyRefusedException($"a scoped API token may not {what}; sign in, or use an unscoped token");
    }

    private static async Task<IResult> LoginAsync(LoginRequest request, HttpContext context, SignInService signIn, ServerOptions options)
    {
        var result = await signIn.CheckPasswordAsync(context, request.Username ?? "", request.Password ?? "");
        if (result.RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString("0");
            return Results.Json(new ErrorDto(result.Error!), statusCode: StatusCodes.Status429TooManyRequests);
        }
        if (result.User is null) return Results.Json(new ErrorDto(result.Error!), statusCode: StatusCodes.Status401Unauthorized);
        var days = request.ExpiresInDays ?? 30;
        if (days is < 1 or > MaxTokenDays) throw new ArgumentException($"a token expires in 1 to {MaxTokenDays} days");
        var name = string.IsNullOrWhiteSpace(request.TokenName) ? $"cli {DateTime.UtcNow:yyyy-MM-dd HH.mm.ss}" : request.TokenName.Trim();
        if (!TokenName().IsMatch(name)) throw new ArgumentException("a token name is 1-64 letters, digits, spaces, '.', '_', '@' or '-'");
        var (token, id, expires) = await signIn.IssueTokenAsync(context, result.User, name, days);
        return Results.Ok(new TokenCreatedDto(id, name, token, UnixMs.To(expires), null));
    }
}
