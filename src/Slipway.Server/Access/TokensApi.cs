using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access;

/// <summary>
/// One's own account: /api/v1/me (who am I, what may I do, change my password), /api/v1/tokens (my API tokens),
/// and /api/v1/auth/login (password to API token, for `slipway login`). Changes go through <see cref="AccountService"/>.
/// </summary>
public static class TokensApi
{
    public const int MaxTokenDays = 365;

    public static void MapTokensApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/me", Me).RequireAction(Actions.AccountSelf);
        api.MapPost("/me/password", async (SetPasswordRequest request, HttpContext context, AccountService account) =>
        {
            await account.ChangePasswordAsync(Actor.Of(context), request, context.Request.Cookies[Authenticator.SessionCookie]);
            return Results.NoContent();
        }).RequireAction(Actions.AccountSelf);
        api.MapGet("/tokens", async (HttpContext context, CredentialStore credentials, TimeProvider clock) =>
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            return (await credentials.ListTokensAsync(context.RequireUser().Id)).Select(t => t.ToDto(now));
        }).RequireAction(Actions.AccountSelf);
        api.MapPost("/tokens", async (CreateTokenRequest request, HttpContext context, AccountService account) =>
            Results.Created("/api/v1/tokens", await account.CreateTokenAsync(Actor.Of(context), request))).RequireAction(Actions.AccountSelf);
        api.MapDelete("/tokens/{id:long}", async (long id, HttpContext context, AccountService account) =>
        {
            await account.RevokeTokenAsync(Actor.Of(context), id);
            return Results.NoContent();
        }).RequireAction(Actions.AccountSelf);
        api.MapPost("/auth/login", LoginAsync).RequireAction(Actions.SessionCreate);
    }

    private static async Task<MeDto> Me(HttpContext context, UserStore users, GrantStore grants)
    {
        var me = context.RequireUser();
        var user = (await users.GetAsync(me.Id))!;
        return new MeDto(user.Username, user.DisplayName, user.Email, (await grants.ForUserAsync(me.Id)).Select(g => g.ToDto()).ToList(),
            me.Permissions.Reachable().Order().ToList(), me.TokenName);
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
        if (!AccountService.TokenName().IsMatch(name)) throw new ArgumentException("a token name is 1-64 letters, digits, spaces, '.', '_', '@' or '-'");
        var (token, id, expires) = await signIn.IssueTokenAsync(context, result.User, name, days);
        return Results.Ok(new TokenCreatedDto(id, name, token, UnixMs.To(expires), null));
    }
}
