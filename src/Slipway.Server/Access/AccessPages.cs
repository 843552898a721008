using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Runs;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Access;

/// <summary>Sign-in and sign-out, users and their grants, roles, and one's own tokens and password.</summary>
public static class AccessPages
{
    public static void MapAccessPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (HttpContext context, IAntiforgery antiforgery, string? returnUrl) =>
            LoginPage(context, antiforgery, returnUrl, null)).RequireAction(Actions.Public);
        app.MapPost("/login", SignInAsync).RequireAction(Actions.SessionCreate).DisableAntiforgery();
        app.MapPost("/logout", SignOutAsync).RequireAction(Actions.AccountSelf);

        app.MapGet("/users", async (HttpContext context, UserStore users, GrantStore grants, ProjectStore projects) =>
            Page<UsersPage>(context, new
            {
                Users = await UsersApi.ListAsync(users, grants),
                Roles = (await RolesApi.AllAsync(grants)).Select(r => r.Name).ToList(),
                Projects = (await projects.ListAsync()).Select(p => p.Name).Order(StringComparer.Ordinal).ToList(),
            })).RequirePageAction(Actions.UserRead);
        app.MapPost("/users/create", (HttpContext context, UserStore users, TimeProvider clock) => Act(context, "/users", async form =>
        {
            var request = new CreateUserRequest(form["username"].ToString(), form["displayName"], form["email"],
                form["password"].ToString() is { Length: > 0 } password ? password : null);
            await UsersApi.CreateAsync(request, context, users, clock);
            return $"User '{request.Username.Trim()}' created.";
        })).RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/disable", (string username, HttpContext context, UserStore users, GrantStore grants, TimeProvider clock) =>
            Act(context, "/users", async () => { await UsersApi.DisableAsync(username, context, users, grants, clock); return $"User '{username}' disabled."; }))
            .RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/enable", (string username, HttpContext context, UserStore users, GrantStore grants) =>
            Act(context, "/users", async () => { await UsersApi.EnableAsync(username, context, users, grants); return $"User '{username}' enabled."; }))
            .RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/grants", (string username, HttpContext context, UserStore users, GrantStore grants, ProjectStore projects,
            TimeProvider clock) => Act(context, "/users", async form =>
        {
            var request = GrantFrom(form);
            await UsersApi.GrantAsync(username, request, context, users, grants, projects, clock);
            return $"Granted {Describe(request)} to '{username}'.";
        })).RequirePageAction(Actions.GrantManage);
        app.MapPost("/users/{username}/grants/revoke", (string username, HttpContext context, UserStore users, GrantStore grants,
            ProjectStore projects) => Act(context, "/users", async form =>
        {
            var request = GrantFrom(form);
            await UsersApi.RevokeGrantAsync(username, request, context, users, grants, projects);
            return $"Revoked {Describe(request)} from '{username}'.";
        })).RequirePageAction(Actions.GrantManage);

        app.MapGet("/roles", async (HttpContext context, GrantStore grants) =>
            Page<RolesPage>(context, new { Roles = await RolesApi.AllAsync(grants) })).RequirePageAction(Actions.UserRead);
        app.MapPost("/roles/create", (HttpContext context, GrantStore grants, TimeProvider clock) => Act(context, "/roles", async form =>
        {
            var request = new CreateRoleRequest(form["name"].ToString(), form["description"], form["actions"].Select(a => a ?? "").ToList());
            await RolesApi.CreateAsync(request, context, grants, clock);
            return $"Role '{request.Name.Trim()}' created.";
        })).RequirePageAction(Actions.RoleManage);
        app.MapPost("/roles/{role}/delete", (string role, HttpContext context, GrantStore grants) =>
            Act(context, "/roles", async () => { await RolesApi.DeleteAsync(role, context, grants); return $"Role '{role}' deleted."; }))
            .RequirePageAction(Actions.RoleManage);

        app.MapGet("/tokens", (HttpContext context, CredentialStore credentials, TimeProvider clock) =>
            TokensPageAsync(context, credentials, clock, null)).RequirePageAction(Actions.AccountSelf);
        // The new token is rendered once, in this response: never in a URL, a redirect or a cookie.
        app.MapPost("/tokens/create", async (HttpContext context, CredentialStore credentials, ServerOptions options, TimeProvider clock) =>
        {
            var form = await ReadFormAsync(context);
            try
            {
                var days = form["expiresInDays"].ToString().Trim() is { Length: > 0 } d
                    ? int.TryParse(d, out var n) ? n : throw new ArgumentException("the expiry is a whole number of days")
                    : (int?)null;
                var scope = form["scope"].Select(a => a ?? "").Where(a => a.Length > 0).ToList();
                var created = await TokensApi.CreateTokenAsync(context, new CreateTokenRequest(form["name"].ToString(), days, scope.Count > 0 ? scope : null),
                    credentials, options, clock);
                context.Response.Headers.CacheControl = AccessMiddleware.NoStore;
                return await TokensPageAsync(context, credentials, clock, created);
            }
            catch (Exception e) when (ErrorHandling.Classify(e) is { } error)
            {
                return Results.Redirect(Flash("/tokens", "error", error.Message));
            }
        }).RequirePageAction(Actions.AccountSelf);
        app.MapPost("/tokens/{tokenId:long}/revoke", (long tokenId, HttpContext context, CredentialStore credentials, TimeProvider clock) =>
            Act(context, "/tokens", async () => { await TokensApi.RevokeTokenAsync(context, tokenId, credentials, clock); return $"Token #{tokenId} revoked."; }))
            .RequirePageAction(Actions.AccountSelf);
        app.MapPost("/tokens/password", (HttpContext context, UserStore users, TimeProvider clock) => Act(context, "/tokens", async form =>
        {
            if (form["password"] != form["confirm"]) throw new ArgumentException("the new password and its confirmation differ");
            await TokensApi.ChangePasswordAsync(new SetPasswordRequest(form["password"].ToString(), form["currentPassword"]), context, users, clock);
            return "Password changed.";
        })).RequirePageAction(Actions.AccountSelf);
    }

    internal static async Task<IResult> TokensPageAsync(HttpContext context, CredentialStore credentials, TimeProvider clock, TokenCreatedDto? created)
    {
        var me = context.RequireUser();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        return Page<TokensPage>(context, new
        {
            Tokens = (await credentials.ListTokensAsync(me.Id)).Select(t => t.ToDto(now)).ToList(),
            Reachable = me.Permissions.Reachable().Order(StringComparer.Ordinal).ToList(),
            Created = created,
        });
    }

    internal static GrantRequest GrantFrom(IFormCollection form) =>
        new(form["role"].ToString(), form["project"].ToString() is { Length: > 0 } p ? p : null,
            form["environment"].ToString() is { Length: > 0 } e ? e : null);

    internal static string Describe(GrantRequest g) =>
        $"'{g.Role.Trim()}'" + (g.Project is null ? " on all projects" : $" on project '{g.Project}'") + (g.Environment is null ? "" : $" ({g.Environment})");

    internal static IResult LoginPage(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Page<LoginPage>(new { AntiforgeryToken = tokens.RequestToken ?? "", ReturnUrl = SafeReturnUrl(returnUrl), Error = error });
    }

    /// <summary>
    /// Sign-in with username and password, or with an API token (the first admin has no password yet). Either
    /// way the browser gets a fresh random session id in an HttpOnly SameSite=Strict cookie, never the token.
    /// </summary>
    internal static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, SignInService signIn)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
            return Results.BadRequest("invalid or missing anti-forgery token; reload the sign-in page");
        var form = await context.Request.ReadFormAsync();
        var token = form["token"].ToString().Trim();
        var result = token.Length > 0
            ? await signIn.CheckTokenAsync(context, token)
            : await signIn.CheckPasswordAsync(context, form["username"].ToString(), form["password"].ToString());
        if (result.User is null)
        {
            context.Response.StatusCode = result.RetryAfter is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status429TooManyRequests;
            if (result.RetryAfter is { } wait) context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString("0");
            return LoginPage(context, antiforgery, form["returnUrl"], result.Error);
        }
        var session = await signIn.OpenSessionAsync(context, result.User, token.Length > 0 ? "API token" : "password", result.TokenId);
        context.Response.Cookies.Append(Authenticator.SessionCookie, session, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/",
        });
        return Results.Redirect(SafeReturnUrl(form["returnUrl"]));
    }

    internal static async Task<IResult> SignOutAsync(HttpContext context, CredentialStore credentials, TimeProvider clock)
    {
        var session = context.Request.Cookies[Authenticator.SessionCookie];
        if (!string.IsNullOrEmpty(session)) await credentials.RevokeSessionAsync(Tokens.Hash(session), clock.GetUtcNow().ToUnixTimeMilliseconds());
        context.Response.Cookies.Delete(Authenticator.SessionCookie);
        return Results.Redirect("/login");
    }

    /// <summary>Only local paths: a sign-in link must not redirect to another site.</summary>
    internal static string SafeReturnUrl(string? url) =>
        url is { Length: > 0 } && url.StartsWith('/') && !url.StartsWith("//") && !url.Contains('\\') && !url.Any(char.IsControl) ? url : "/";
}
