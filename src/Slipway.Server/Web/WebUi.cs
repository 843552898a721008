using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;
using Slipway.Core.Environments;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Contracts.Api;

namespace Slipway.Server.Web;

/// <summary>
/// The shell of the server-rendered web UI: Razor components rendered per request (no SPA build chain), one small
/// script for live logs and statuses. Each feature maps its own pages (<c>ProjectPages</c>, <c>RunPages</c>,
/// <c>DeploymentPages</c>, ...) with the helpers here: the page frame, form actions with post/redirect/get, assets.
/// </summary>
public static partial class WebUi
{
    public static void MapWebUi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/assets/{file}", (string file) => Asset(file)).RequireAction(Actions.Public);

        app.MapAccessPages();
        app.MapProjectPages();
        app.MapRunPages();
        app.MapAgentPages();
        app.MapNodePages();
        app.MapWorkItemPages();
        app.MapReleasePages();
        app.MapChangeRequestPages();
        app.MapDeploymentPages();
        app.MapEnvironmentPages();
        app.MapTargetPages();
        app.MapGatePages();
        app.MapCheckPages();
        app.MapProjectVariablePages();
        app.MapProjectSettingsPages();
        app.MapAuditPages();
    }

    /// <summary>
    /// A page form's action: runs the same code as the API endpoint, then redirects back (post/redirect/get) with the
    /// outcome as a flash message. Refusals (rules, last admin, bad input) are shown on the page, not as an error body.
    /// </summary>
    internal static Task<IResult> Act(HttpContext context, string back, Func<Task<string>> action) => Act(context, back, _ => action());

    /// <summary>The posted form, or an empty one when the body is not a form (then validation reports what is missing).</summary>
    internal static async Task<IFormCollection> ReadFormAsync(HttpContext context) =>
        context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : FormCollection.Empty;

    internal static Task<IResult> Act(HttpContext context, string back, Func<IFormCollection, Task<string>> action) =>
        Act(context, back, async form => (await action(form), (string?)null));

    /// <summary>As above, but a success may lead elsewhere (e.g. to the item or release just created); a refusal goes <paramref name="back"/>.</summary>
    internal static async Task<IResult> Act(HttpContext context, string back, Func<IFormCollection, Task<(string Message, string? Next)>> action)
    {
        var form = await ReadFormAsync(context);
        try
        {
            var (message, next) = await action(form);
            return Results.Redirect(Flash(context, next ?? back, "ok", message));
        }
        catch (Exception e) when (ErrorHandling.Classify(e) is { } error)
        {
            return Results.Redirect(Flash(context, back, "error", error.Message));
        }
    }

    /// <summary>
    /// The address a form's answer redirects to, with its message. The message is signed with the asker's own credential
    /// (session cookie or bearer token), so a link from anyone else ("/projects/shop?error=Your session expired, sign in at
    /// evil.example") shows no banner: only messages this server wrote for this browser are shown.
    /// </summary>
    internal static string Flash(HttpContext context, string path, string kind, string message)
    {
        var text = message.Length > 500 ? message[..500] : message;
        return $"{path}?{kind}={Uri.EscapeDataString(text)}&sig={FlashSignature(context, kind, text)}";
    }

    private static string FlashSignature(HttpContext context, string kind, string message)
    {
        var credential = context.Request.Cookies[Authenticator.SessionCookie] ?? context.Request.Headers.Authorization.ToString();
        var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes("slipway-flash\n" + credential),
            System.Text.Encoding.UTF8.GetBytes(kind + "\n" + message));
        return Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }

    /// <summary>Renders a page in the frame: the signed-in user (the nav shows only what they may use), the anti-forgery token, a flash message.</summary>
    internal static IResult Page<T>(HttpContext context, object parameters) where T : Microsoft.AspNetCore.Components.IComponent
    {
        var values = parameters.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(parameters));
        values["Frame"] = Frame(context);
        return new RazorComponentResult<T>(values) { PreventStreamingRendering = true };
    }

    internal static PageFrame Frame(HttpContext context)
    {
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        var query = context.Request.Query;
        // Only a message this server signed for this browser (Flash): a banner is never text from someone else's link.
        string? Message(string kind)
        {
            var value = query[kind].ToString();
            if (value.Length == 0 || value.Length > 500) return null;
            var given = query["sig"].ToString();
            var expected = FlashSignature(context, kind, value);
            return given.Length == expected.Length
                   && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(given), System.Text.Encoding.ASCII.GetBytes(expected))
                ? value : null;
        }
        return new PageFrame(context.RequireUser(), antiforgery.GetAndStoreTokens(context).RequestToken ?? "", Message("ok"), Message("error"));
    }

    internal static IResult Page<T>(object parameters) where T : Microsoft.AspNetCore.Components.IComponent =>
        new RazorComponentResult<T>(parameters) { PreventStreamingRendering = true };

    internal static IResult Asset(string file)
    {
        var type = file switch { "app.js" => "text/javascript", "site.css" => "text/css", _ => null };
        var stream = type is null ? null : typeof(WebUi).Assembly.GetManifestResourceStream($"Slipway.Server.Web.Assets.{file}");
        return stream is null ? Results.NotFound() : Results.Stream(stream, type + "; charset=utf-8");
    }

    /// <summary>A posted field's value, or null when the form does not have it.</summary>
    internal static string? Field(IFormCollection form, string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;
    internal static string? Optional(IFormCollection form, string name) => Field(form, name)?.Trim() is { Length: > 0 } v ? v : null;
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
