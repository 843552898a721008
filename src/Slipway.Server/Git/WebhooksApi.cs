using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Git;

/// <summary>
/// POST /api/v1/projects/{name}/hooks/git: a push webhook from GitHub, Gitea or GitLab (or anything that
/// signs the same way). The caller proves itself with an HMAC-SHA256 of the raw body under the project's
/// secret, in <c>X-Hub-Signature-256: sha256=HEX</c> (GitHub, Gitea), <c>X-Gitea-Signature: HEX</c> or
/// <c>X-Slipway-Signature: sha256=HEX</c>; compared in constant time. The payload only says "look now":
/// the server fetches and trusts its mirror, not the payload's commit ids.
/// </summary>
public static class WebhooksApi
{
    private const int MaxBody = 5 * 1024 * 1024;

    public static void MapWebhooksApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/projects/{name}/hooks/git", ReceiveAsync).RequireAction(Actions.WebhookPush);
    }

    private static async Task<IResult> ReceiveAsync(string name, HttpRequest request, ProjectStore projects, ChangeDetector detector,
        ILoggerFactory logs, CancellationToken ct)
    {
        var log = logs.CreateLogger("Slipway.Webhooks");
        var body = await ReadBodyAsync(request, ct);
        var project = await projects.FindAsync(name);
        // Same answer for an unknown project and a bad signature: no probing for project names.
        if (project is null || body is null || !SignatureMatches(request, body, project.WebhookSecret))
        {
            log.LogWarning("webhook for {Project} refused: missing or wrong signature", name);
            return Results.Json(new ErrorDto("missing or invalid signature"), statusCode: StatusCodes.Status401Unauthorized);
        }
        var branch = BranchOf(body);
        var started = await detector.CheckAsync(project, ct);
        return Results.Ok(new { project = project.Name, branch, runsStarted = started });
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBody) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static bool SignatureMatches(HttpRequest request, byte[] body, string secret)
    {
        var header = request.Headers["X-Hub-Signature-256"].FirstOrDefault()
                     ?? request.Headers["X-Slipway-Signature"].FirstOrDefault()
                     ?? request.Headers["X-Gitea-Signature"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(header)) return false;
        var hex = header.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? header[7..] : header;
        byte[] given;
        try { given = Convert.FromHexString(hex.Trim()); }
        catch (FormatException) { return false; }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>The pushed branch from a GitHub/Gitea/GitLab payload ("ref": "refs/heads/x"), for the answer only.</summary>
    private static string? BranchOf(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("ref", out var r) && r.GetString() is { } s && s.StartsWith("refs/heads/")
                ? s["refs/heads/".Length..] : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }
    }
}
