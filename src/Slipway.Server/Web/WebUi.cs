using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;
using Slipway.Core.Environments;
using Slipway.Server.Access;
using Slipway.Server.Deployments;
using Slipway.Server.Access.SignIn;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Contracts.Api;
using Slipway.Server.Api;
using Slipway.Server.Hosting;
using Slipway.Server.Scheduling;
using Slipway.Server.Storage;
using Slipway.Server.Web.Pages;

namespace Slipway.Server.Web;

/// <summary>
/// The server-rendered web UI: Razor components rendered per request (no SPA build chain), one small
/// script for live logs and statuses. Every page is the <see cref="Actions.UiView"/> action; the data
/// shown comes from the same stores the API reads.
/// </summary>
public static partial class WebUi
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
            var list = new List<(ProjectDto, RunSummaryDto?)>();
            var me = context.RequireUser();
            foreach (var p in (await projects.ListAsync()).Where(p => me.Permissions.CanOnProject(Actions.ProjectRead, p.Name)))
                list.Add((p.ToDto(), (await runs.ListAsync(p.Id, 1, RunKinds.Ci)).FirstOrDefault()?.ToSummary()));
            return Page<ProjectsPage>(context, new { Projects = list });
        }).RequirePageAction(Actions.UiView);

        app.MapGet("/projects/{name}", async (string name, HttpContext context, ProjectStore projects, RunStore runs, ReleaseSettingsStore releaseSettings) =>
        {
            var project = await ProjectsApi.Find(projects, name);
            var branches = await ProjectsApi.BranchViewsAsync(project, projects, runs);
            // CI runs only: a deployment's run is not a build of its branch (it is on the deployment's page).
            var list = (await runs.ListAsync(project.Id, 50, RunKinds.Ci)).Select(r => r.ToSummary()).ToList();
            var directPushes = await RepositorySettingsApi.DirectPushesAsync(name, projects);
            var releaseBranches = await ReleaseBranchesApi.GetAsync(name, projects, releaseSettings);
            return Page<ProjectPage>(context, new
            {
                Project = project.ToDto(), Branches = branches, Runs = list, DirectPushes = directPushes, ReleaseBranches = releaseBranches,
            });
        }).RequirePageAction(Actions.ProjectRead);

        app.MapGet("/runs/{id:long}", async (long id, HttpContext context, RunStore runs, ReleaseStore releases, DeploymentStore deployments,
            ProjectStore projects, ReleaseSettingsStore releaseSettings, PoolPresence presence) =>
        {
            var details = await RunsApi.Get(runs, id);
            var project = await projects.GetAsync(details.Run.ProjectId);
            return Page<RunPage>(context, new
            {
                Run = details.ToDto(await presence.WaitingAsync(details)), ReleaseVersion = (await releases.ForRunAsync(id))?.Version,
                DeploymentNumber = details.Run.DeploymentId is { } deployment ? (await deployments.GetAsync(deployment))?.Number : null,
                OnReleaseBranch = project is not null && (await releaseSettings.GetAsync(project)).Releases(details.Run.Branch),
            });
        }).RequirePageAction(Actions.RunRead);
        // The run's project is the scope of both (AccessMiddleware resolves it from {id}).
        app.MapPost("/runs/{id:long}/cancel", (long id, HttpContext context, RunStore runs, WorkSignal signal, TimeProvider clock) =>
            Act(context, $"/runs/{id}", async () => { await RunsApi.CancelAsync(id, runs, signal, clock); return "Run cancelled."; }))
            .RequirePageAction(Actions.RunCancel);
        app.MapPost("/runs/{id:long}/retry", (long id, HttpContext context, RunStore runs, WorkSignal signal, TimeProvider clock) =>
            Act(context, $"/runs/{id}", async () => { await RunsApi.RetryAsync(id, null, runs, signal, clock); return "Failed jobs queued again."; }))
            .RequirePageAction(Actions.RunRetry);

        app.MapGet("/agents", async (HttpContext context, AgentStore agents) =>
            Page<AgentsPage>(context, new { Agents = (await agents.ListAsync()).Select(a => a.ToDto()).ToList() }))
            .RequirePageAction(Actions.AgentRead);
        app.MapPost("/agents/{agent}/approve", (string agent, HttpContext context, AgentStore agents) =>
            Act(context, "/agents", async () => { await AgentsApi.SetStatusAsync(agent, "approved", context, agents); return $"Agent '{agent}' approved."; }))
            .RequirePageAction(Actions.AgentApprove);
        app.MapPost("/agents/{agent}/disable", (string agent, HttpContext context, AgentStore agents) =>
            Act(context, "/agents", async () => { await AgentsApi.SetStatusAsync(agent, "disabled", context, agents); return $"Agent '{agent}' disabled."; }))
            .RequirePageAction(Actions.AgentApprove);

        app.MapWorkItemPages();
        app.MapReleasePages();
        app.MapChangeRequestPages();
        app.MapDeploymentPages();
        app.MapAccountPages();
    }

    /// <summary>Users, roles, one's own tokens and password, and the audit log.</summary>
    private static void MapAccountPages(this IEndpointRouteBuilder app)
    {
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

        app.MapGet("/audit", AuditPageAsync).RequirePageAction(Actions.AuditRead);
    }

    private static async Task<IResult> TokensPageAsync(HttpContext context, CredentialStore credentials, TimeProvider clock, TokenCreatedDto? created)
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

    private static async Task<IResult> AuditPageAsync(HttpContext context, AuditStore store, CancellationToken ct)
    {
        var q = context.Request.Query;
        string? Text(string key) => q[key].ToString().Trim() is { Length: > 0 } v ? v : null;
        // Routine entries (allowed agent traffic and reads) are hidden unless asked for: changes and refusals stand out.
        var filter = new AuditFilter { Actor = Text("actor"), Action = Text("action"), Outcome = Text("outcome"), Target = Text("target"), Limit = 50,
            Routine = Text("routine") == "show" ? "show" : "hide" };
        string? error = null;
        try
        {
            filter.From = Time(Text("from"), "from");
            filter.To = Time(Text("to"), "to");
            filter.Before = Text("before") is { } b ? long.TryParse(b, out var before) ? before : throw new ArgumentException("'before' is an entry number") : null;
        }
        catch (ArgumentException e) { error = e.Message; }
        var entries = error is null ? (await store.QueryAsync(filter.ToQuery())).Select(e => e.ToDto()).ToList() : [];
        var verification = Text("verify") is not null ? await AuditApi.VerifyAsync(null, store, ct) : null;
        // The filters as typed (to show them again) and as a query string the export endpoint parses the same way.
        var inputs = AuditPage.FilterNames.Select(k => (k, v: Text(k))).Where(p => p.v is not null).ToDictionary(p => p.k, p => p.v!);
        var normalized = new Dictionary<string, string?>
        {
            ["from"] = filter.From?.ToString("o"), ["to"] = filter.To?.ToString("o"), ["actor"] = filter.Actor,
            ["action"] = filter.Action, ["outcome"] = filter.Outcome, ["target"] = filter.Target, ["routine"] = filter.Routine,
        };
        var filterQuery = string.Join('&', normalized.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
        return Page<AuditPage>(context, new
        {
            Inputs = inputs, FilterQuery = filterQuery, Entries = entries, Verification = verification, FilterError = error,
            PageSize = filter.ToQuery().Limit, Paged = filter.Before is not null,
        });

        static DateTimeOffset? Time(string? value, string what) => value is null ? null
            : DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t
            : throw new ArgumentException($"'{what}' is a date and time such as 2025-01-31 or 2025-01-31T14:00Z");
    }

    private static GrantRequest GrantFrom(IFormCollection form) =>
        new(form["role"].ToString(), form["project"].ToString() is { Length: > 0 } p ? p : null,
            form["environment"].ToString() is { Length: > 0 } e ? e : null);

    private static string Describe(GrantRequest g) =>
        $"'{g.Role.Trim()}'" + (g.Project is null ? " on all projects" : $" on project '{g.Project}'") + (g.Environment is null ? "" : $" ({g.Environment})");

    /// <summary>
    /// A page form's action: runs the same code as the API endpoint, then redirects back (post/redirect/get) with the
    /// outcome as a flash message. Refusals (rules, last admin, bad input) are shown on the page, not as an error body.
    /// </summary>
    private static Task<IResult> Act(HttpContext context, string back, Func<Task<string>> action) => Act(context, back, _ => action());

    /// <summary>The posted form, or an empty one when the body is not a form (then validation reports what is missing).</summary>
    private static async Task<IFormCollection> ReadFormAsync(HttpContext context) =>
        context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : FormCollection.Empty;

    private static Task<IResult> Act(HttpContext context, string back, Func<IFormCollection, Task<string>> action) =>
        Act(context, back, async form => (await action(form), (string?)null));

    /// <summary>As above, but a success may lead elsewhere (e.g. to the item or release just created); a refusal goes <paramref name="back"/>.</summary>
    private static async Task<IResult> Act(HttpContext context, string back, Func<IFormCollection, Task<(string Message, string? Next)>> action)
    {
        var form = await ReadFormAsync(context);
        try
        {
            var (message, next) = await action(form);
            return Results.Redirect(Flash(next ?? back, "ok", message));
        }
        catch (Exception e) when (ErrorHandling.Classify(e) is { } error)
        {
            return Results.Redirect(Flash(back, "error", error.Message));
        }
    }

    private static string Flash(string path, string kind, string message) =>
        $"{path}?{kind}={Uri.EscapeDataString(message.Length > 500 ? message[..500] : message)}";

    /// <summary>Renders a page in the frame: the signed-in user (the nav shows only what they may use), the anti-forgery token, a flash message.</summary>
    private static IResult Page<T>(HttpContext context, object parameters) where T : Microsoft.AspNetCore.Components.IComponent
    {
        var values = parameters.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(parameters));
        values["Frame"] = Frame(context);
        return new RazorComponentResult<T>(values) { PreventStreamingRendering = true };
    }

    private static PageFrame Frame(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        var query = context.Request.Query;
        static string? Message(string value) => value.Length == 0 ? null : value.Length > 500 ? value[..500] : value;
        return new PageFrame(context.RequireUser(), antiforgery.GetAndStoreTokens(context).RequestToken ?? "",
            Message(query["ok"].ToString()), Message(query["error"].ToString()));
    }

    private static IResult Page<T>(object parameters) where T : Microsoft.AspNetCore.Components.IComponent =>
        new RazorComponentResult<T>(parameters) { PreventStreamingRendering = true };

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
        var session = await signIn.OpenSessionAsync(context, result.User, token.Length > 0 ? "API token" : "password", result.TokenId);
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

/// <summary>What every signed-in page gets: who is looking (their permissions decide what is shown), the anti-forgery token for its forms, a flash message.</summary>
public sealed record PageFrame(Principal.User Me, string Csrf, string? Ok, string? Error)
{
    public bool Can(string action) => Me.Permissions.Can(action);
    public bool CanOnProject(string action, string project) => Me.Permissions.CanOnProject(action, project);
    public bool CanOnEnvironment(string action, string project, string environment) => Me.Permissions.Can(action, new Scope(project, environment));

    /// <summary>Whether to offer deploy, promote, roll-back and cancel for an environment: the deployment service's own check.</summary>
    public bool MayDeploy(string project, EnvironmentSettings environment) =>
        DeploymentService.MayDeploy(DeploymentService.InitiatorOf(Me, project, environment.Name), project, environment);
}
