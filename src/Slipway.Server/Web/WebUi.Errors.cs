using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Slipway.Core.Access;

namespace Slipway.Server.Web;

/// <summary>
/// The error page: a refusal, a missing thing or a state conflict met while opening a page (or submitting a form) is
/// shown in the site's frame with the server's message and a way back: the previous page (browser history, app.js), the
/// project the address lies under (when the user may open it), home. <see cref="ErrorHandling.WriteAsync"/> decides when.
/// </summary>
public static partial class WebUi
{
    /// <summary>Writes the error page with <paramref name="status"/>; <paramref name="principal"/> (when a user) gets their nav.</summary>
    public static async Task ErrorPageAsync(HttpContext context, int status, string message, Principal? principal)
    {
        var user = principal as Principal.User;
        var (parent, parentLabel) = await ParentPageAsync(context, user);
        var frame = user is null ? null
            : new PageFrame(user, context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context).RequestToken ?? "", null, null);
        context.Response.Headers.CacheControl = "no-store";
        var page = new RazorComponentResult<ErrorPage>(new Dictionary<string, object?>
        {
            ["Frame"] = frame, ["Status"] = status, ["Message"] = message,
            ["Parent"] = parent, ["ParentLabel"] = parentLabel,
        }) { StatusCode = status, PreventStreamingRendering = true };
        await page.ExecuteAsync(context);
    }

    /// <summary>The project page above an address under /projects/NAME/…, when that project exists and the user may read it.</summary>
    internal static async Task<(string? Href, string Label)> ParentPageAsync(HttpContext context, Principal.User? user)
    {
        var segments = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (user is null || segments.Length < 3 || segments[0] != "projects") return (null, "");
        var name = segments[1];
        if (!user.Permissions.CanOnProject(Actions.ProjectRead, name)) return (null, "");
        if (await context.RequestServices.GetRequiredService<ProjectStore>().FindAsync(name) is null) return (null, "");
        return ($"/projects/{Uri.EscapeDataString(name)}", $"Project {name}");
    }
}
