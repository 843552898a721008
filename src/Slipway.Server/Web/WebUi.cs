using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Slipway.Server.Access;
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
        app.MapPost("/login", SignInAsync).RequireAction(Actions.Public).DisableAntiforgery();
        app.MapPost("/logout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(AccessMiddleware.CookieName);
            return Results.Redirect("/login");
        }).RequireAction(Actions.UiView);

        app.MapGet("/", async (HttpContext context, ProjectStore projects, RunStore runs) =>
        {
            var list = new List<(Contracts.Api.ProjectDto, Contracts.Api.RunSummaryDto?)>();
            foreach (var p in await projects.ListAsync())
                list.Add((p.ToDto(), (await runs.ListAsync(p.Id, 1)).FirstOrDefault()?.ToSummary()));
            return Page<ProjectsPage>(new { User = UserName(context), Projects = list });
        }).RequireAction(Actions.UiView);

        app.MapGet("/projects/{name}", async (string name, HttpContext context, ProjectStore projects, RunStore runs) =>
        {
            var project = await ProjectsApi.Find(projects, name);
            var branches = await ProjectsApi.BranchViewsAsync(project, projects, runs);
            var list = (await runs.ListAsync(project.Id, 50)).Select(r => r.ToSummary()).ToList();
            return Page<ProjectPage>(new { User = UserName(context), Project = project.ToDto(), Branches = branches, Runs = list });
        }).RequireAction(Actions.UiView);

        app.MapGet("/runs/{id:long}", async (long id, HttpContext context, RunStore runs) =>
            Page<RunPage>(new { User = UserName(context), Run = (await RunsApi.Get(runs, id)).ToDto() })).RequireAction(Actions.UiView);

        app.MapGet("/agents", async (HttpContext context, AgentStore agents) =>
            Page<AgentsPage>(new { User = UserName(context), Agents = (await agents.ListAsync()).Select(a => a.ToDto()).ToList() }))
            .RequireAction(Actions.UiView);
    }

    private static IResult Page<T>(object parameters) where T : Microsoft.AspNetCore.Components.IComponent =>
        new RazorComponentResult<T>(parameters) { PreventStreamingRendering = true };

    private static string? UserName(HttpContext context) => (context.GetPrincipal() as Principal.User)?.Username;

    private static IResult LoginPage(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Page<LoginPage>(new { AntiforgeryToken = tokens.RequestToken ?? "", ReturnUrl = SafeReturnUrl(returnUrl), Error = error });
    }

    private static async Task<IResult> SignInAsync(HttpContext context, IAntiforgery antiforgery, TokenStore tokens)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
            return Results.BadRequest("invalid or missing anti-forgery token; reload the sign-in page");
        var form = await context.Request.ReadFormAsync();
        var token = form["token"].ToString().Trim();
        var user = token.Length is > 0 and < 200 ? await tokens.FindUserByTokenAsync(Tokens.Hash(token)) : null;
        if (user is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return LoginPage(context, antiforgery, form["returnUrl"], "That token is not valid.");
        }
        context.Response.Cookies.Append(AccessMiddleware.CookieName, token, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/",
        });
        return Results.Redirect(SafeReturnUrl(form["returnUrl"]));
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
