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

        app.MapGet("/users", async (HttpContext context, UserService service, RoleService roles, ProjectStore projects) =>
            Page<UsersPage>(context, new
            {
                Users = await service.ListAsync(),
                Roles = (await roles.AllAsync()).Select(r => r.Name).ToList(),
                Projects = (await projects.ListAsync()).Select(p => p.Name).Order(StringComparer.Ordinal).ToList(),
            })).RequirePageAction(Actions.UserRead);
        app.MapPost("/users/create", (HttpContext context, UserService service) => Act(context, "/users", async form =>
        {
            var request = new CreateUserRequest(form["username"].ToString(), form["displayName"], form["email"],
                form["password"].ToString() is { Length: > 0 } password ? password : null);
            await service.CreateAsync(Actor.Of(context), request);
            return $"User '{request.Username.Trim()}' created.";
        })).RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/disable", (string username, HttpContext context, UserService service) =>
            Act(context, "/users", async () => { await service.DisableAsync(Actor.Of(context), username); return $"User '{username}' disabled."; }))
            .RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/enable", (string username, HttpContext context, UserService service) =>
            Act(context, "/users", async () => { await service.EnableAsync(Actor.Of(context), username); return $"User '{username}' enabled."; }))
            .RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/password", (string username, HttpContext context, UserService service) => Act(context, "/users", async form =>
        {
            // The confirmation is the page's own check (the API takes the password once); no message repeats what was typed.
            if (form["password"] != form["confirm"]) throw new ArgumentException($"password of '{username}' not set: the new password and its confirmation differ");
            // The banner names whose password was refused: the page has a form per user.
            try { await service.ResetPasswordAsync(Actor.Of(context), username, new SetPasswordRequest(form["password"].ToString(), null)); }
            catch (ArgumentException e) { throw new ArgumentException($"password of '{username}' not set: {e.Message}", e); }
            return $"Password of '{username}' set; their web sessions ended.";
        })).RequirePageAction(Actions.UserManage);
        app.MapPost("/users/{username}/grants", (string username, HttpContext context, UserService service) => Act(context, "/users", async form =>
        {
            var request = GrantFrom(form);
            await service.GrantAsync(Actor.Of(context), username, request);
            return $"Granted {Describe(request)} to '{username}'.";
        })).RequirePageAction(Actions.GrantManage);
        app.MapPost("/users/{username}/grants/revoke", (string username, HttpContext context, UserService service) => Act(context, "/users", async form =>
        {
            var request = GrantFrom(form);
            await service.RevokeGrantAsync(Actor.Of(context), username, request);
            return $"Revoked {Describe(request)} from '{username}'.";
        })).RequirePageAction(Actions.GrantManage);

        app.MapGet("/roles", async (HttpContext context, RoleService roles) =>
            Page<RolesPage>(context, new { Roles = await roles.AllAsync() })).RequirePageAction(Actions.UserRead);
        app.MapPost("/roles/create", (HttpContext context, RoleService roles) => Act(context, "/roles", async form =>
        {
            var request = new CreateRoleRequest(form["name"].ToString(), form["description"], form["actions"].Select(a => a ?? "").ToList());
            await roles.CreateAsync(Actor.Of(context), request);
            return $"Role '{request.Name.Trim()}' created.";
        })).RequirePageAction(Actions.RoleManage);
        app.MapPost("/roles/{role}/delete", (string role, HttpContext context, RoleService roles) =>
            Act(context, "/roles", async () => { await roles.DeleteAsync(Actor.Of(context), role); return $"Role '{role}' deleted."; }))
            .RequirePageAction(Actions.RoleManage);

        app.MapGet("/tokens", (HttpContext context, CredentialStore credentials, TimeProvider clock) =>
            TokensPageAsync(context, credentials, clock, null)).RequirePageAction(Actions.AccountSelf);
        // The new token is rendered once, in this response: never in a URL, a redirect or a cookie.
        app.MapPost("/tokens/create", async (HttpContext context, CredentialStore credentials, AccountService account, TimeProvider clock) =>
        {
            var form = await ReadFormAsync(context);
            try
            {
                var days = form["expiresInDays"].ToString().Trim() is { Length: > 0 } d
                    ? int.TryParse(d, out var n) ? n : throw new ArgumentException("the expiry is a whole number of days")
                    : (int?)null;
                var scope = form["scope"].Select(a => a ?? "").Where(a => a.Length > 0).ToList();
                var created = await account.CreateTokenAsync(Actor.Of(context), new CreateTokenRequest(form["name"].ToString(), days, scope.Count > 0 ? scope : null));
                context.Response.Headers.CacheControl = AccessMiddleware.NoStore;
                return await TokensPageAsync(context, credentials, clock, created);
            }
            catch (Exception e) when (ErrorHandling.Classify(e) is { } error)
            {
                return Results.Redirect(Flash(context, "/tokens", "error", error.Message));
            }
        }).RequirePageAction(Actions.AccountSelf);
        app.MapPost("/tokens/{tokenId:long}/revoke", (long tokenId, HttpContext context, AccountService account) =>
            Act(context, "/tokens", async () => { await account.RevokeTokenAsync(Actor.Of(context), tokenId); return $"Token #{tokenId} revoked."; }))
            .RequirePageAction(Actions.AccountSelf);
        app.MapPost("/tokens/password", (HttpContext context, AccountService account) => Act(context, "/tokens", async form =>
        {
            if (form["password"] != form["confirm"]) throw new ArgumentException("the new password and its confirmation differ");
            await account.ChangePasswordAsync(Actor.Of(context), new SetPasswordRequest(form["password"].ToString(), form["currentPassword"]),
                context.Request.Cookies[Authenticator.SessionCookie]);
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
        {
            // The sign-in form again (with a fresh token), not a bare refusal: a page left open too long lands here.
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            var returnUrl = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync())["returnUrl"].ToString() : null;
            return LoginPage(context, antiforgery, returnUrl, "The sign-in form had expired or did not come from this site (anti-forgery check); sign in again.");
        }
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
