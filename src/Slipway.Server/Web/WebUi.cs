using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;
using Slipway.Server.Access;
using Slipway.Server.Access.SignIn;
using Slipway.Server.Api;
using Slipway.Server.Storage;
using Slipway.Server.Web.Pages;

namespace Slipway.Server.Web;

/// <summary>
/// The server-rendered web UI: Razor components rendered per request (no SPA build chain), one small
/// script for live logs and statuses. Every page is the <see cref="Actions.UiView"/> action; the data
/// shown comes from the same stores the API reads.
/// </summary>
public static class WebUi
{
    public static void MapWebUi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/assets/{file}", (string file) => Asset(file)).RequireAction(Actions.Public);
        app.MapGet("/login", (HttpContext context, IAntiforgery antiforgery, string? returnUrl) =>
            LoginPage(context, antiforgery, returnUrl, null)).RequireAction(Actions.Public);
        app.MapPost("/login", SignInAsync).RequireAction(Actions.SessionCreate).DisableAntiforgery();
        app.MapPost("/logout", SignOutAsync).RequireAction(Actions.AccountSelf);

        app.MapGet("/", async (HttpContext context, ProjectStore projects, RunStore runs) =>
        {
            var list = new List<(Contracts.Api.ProjectDto, Contracts.Api.RunSummaryDto?)>();
            var me = context.RequireUser();
            foreach (var p in (await projects.ListAsync()).Where(p => me.Permissions.CanOnProject(Actions.ProjectRead, p.Name)))
                list.Add((p.ToDto(), (await runs.ListAsync(p.Id, 1)).FirstOrDefault()?.ToSummary()));
            return Page<ProjectsPage>(new { User = UserName(context), Projects = list });
        }).RequirePageAction(Actions.UiView);

        app.MapGet("/projects/{name}", async (string name, HttpContext context, ProjectStore projects, RunStore runs) =>
        {
            var project = await ProjectsApi.Find(projects, name);
            var branches = await ProjectsApi.BranchViewsAsync(project, projects, runs);
            var list = (await runs.ListAsync(project.Id, 50)).Select(r => r.ToSummary()).ToList();
            return Page<ProjectPage>(new { User = UserName(context), Project = project.ToDto(), Branches = branches, Runs = list });
        }).RequirePageAction(Actions.ProjectRead);

        app.MapGet("/runs/{id:long}", async (long id, HttpContext context, RunStore runs) =>
            Page<RunPage>(new { User = UserName(context), Run = (await RunsApi.Get(runs, id)).ToDto() })).RequirePageAction(Actions.RunRead);

        app.MapGet("/agents", async (HttpContext context, AgentStore agents) =>
            Page<AgentsPage>(new { User = UserName(context), Agents = (await agents.ListAsync()).Select(a => a.ToDto()).ToList() }))
            .RequirePageAction(Actions.AgentRead);
    }

    private static IResult Page<T>(object parameters) where T : Microsoft.AspNetCore.Components.IComponent =>
        new RazorComponentResult<T>(parameters) { PreventStreamingRendering = true };

    private static string? UserName(HttpContext context) => (context.GetPrincipal() as Principal.User)?.Username;

    private static IResult LoginPage(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Page<LoginPage>(new { AntiforgeryToken = tokens.RequestToken ?? "", ReturnUrl = SafeReturnUrl(returnUrl), Error = error });
    }

    /// <summary>
    /// Sign-in with username and password, or with an API token (the first admin has no password yet). Either
    /// way the browser gets a fresh random session id in an HttpOnly SameSite=Strict cookie, never the token.
    /// </summary>
    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, SignInService signIn)
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
        var session = await signIn.OpenSessionAsync(context, result.User, token.Length > 0 ? "API token" : "password");
        context.Response.Cookies.Append(Authenticator.SessionCookie, session, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/",
        });
        return Results.Redirect(SafeReturnUrl(form["returnUrl"]));
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, CredentialStore credentials, TimeProvider clock)
    {
        var session = context.Request.Cookies[Authenticator.SessionCookie];
        if (!string.IsNullOrEmpty(session)) await credentials.RevokeSessionAsync(Tokens.Hash(session), clock.GetUtcNow().ToUnixTimeMilliseconds());
        context.Response.Cookies.Delete(Authenticator.SessionCookie);
        return Results.Redirect("/login");
    }

    /// <summary>Only local paths: a sign-in link must not redirect to another site.</summary>
    private static string SafeReturnUrl(string? url) =>
        url is { Length: > 0 } && url.StartsWith('/') && !url.StartsWith("//") && !url.Contains('\\') && !url.Any(char.IsControl) ? url : "/";

    private static IResult Asset(string file)
    {
        var type = file switch { "app.js" => "text/javascript", "site.css" => "text/css", _ => null };
        var stream = type is null ? null : typeof(WebUi).Assembly.GetManifestResourceStream($"Slipway.Server.Web.Assets.{file}");
        return stream is null ? Results.NotFound() : Results.Stream(stream, type + "; charset=utf-8");
    }
}
