using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Core.Access;

namespace Slipway.Server.Git;

/// <summary>
/// Git's smart HTTP protocol for hosted repositories at /git/NAME.git, served by <c>git http-backend</c> run as a
/// CGI process (arguments and environment only, never a shell). Authentication is HTTP Basic with a user's API
/// token as the password (see <see cref="Authenticator"/>). Fetching (ref advertisement and upload-pack) is
/// <see cref="Actions.RepoRead"/>; pushing (receive-pack) is <see cref="Actions.RepoPush"/>, each its own route so
/// the access middleware decides and audits before git runs. The ref advertisement for a push is readable with
/// repo.read (it shows no more than a clone does); the push itself is refused with 403 without repo.push, and a push
/// touching a protected branch or release tag is refused whole by <see cref="PushGuard"/> (audited as denied).
/// The dumb protocol is not served. After a push, the project's new heads start runs at once.
/// </summary>
public static class GitHttpApi
{
    public static void MapGitHttpApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/git/{name}.git/info/refs", (string name, HttpContext context, ServerOptions options, ProjectStore projects, CancellationToken ct) =>
                ServeAsync(name, "/info/refs", context, options, projects, null, ct))
            .RequireAction(Actions.RepoRead);
        app.MapPost("/git/{name}.git/git-upload-pack", (string name, HttpContext context, ServerOptions options, ProjectStore projects, CancellationToken ct) =>
                ServeAsync(name, "/git-upload-pack", context, options, projects, null, ct))
            .RequireAction(Actions.RepoRead);
        app.MapPost("/git/{name}.git/git-receive-pack", (string name, HttpContext context, ServerOptions options, ProjectStore projects,
                    ChangeDetector detector, CancellationToken ct) =>
                ServeAsync(name, "/git-receive-pack", context, options, projects, detector, ct))
            .RequireAction(Actions.RepoPush);
    }

    /// <summary>/api/v1/projects/{name}/protected-branches: list (project.read) and mark (repo.protect, admin).</summary>
    public static void MapProtectedBranchesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/protected-branches", (string name, RepositorySettingsService service) => service.ProtectedBranchesAsync(name))
            .RequireAction(Actions.ProjectRead);
        api.MapPut("/projects/{name}/protected-branches/{**branch}", async (string name, string branch, HttpContext context, RepositorySettingsService service,
                CancellationToken ct) =>
            {
                await service.ProtectBranchAsync(Actor.Of(context), name, branch, ct);
                return Results.Ok(new { project = name, branch, @protected = true });
            })
            .RequireAction(Actions.RepoProtect);
        api.MapDelete("/projects/{name}/protected-branches/{**branch}", async (string name, string branch, HttpContext context, RepositorySettingsService service) =>
            {
                await service.UnprotectBranchAsync(Actor.Of(context), name, branch);
                return Results.NoContent();
            })
            .RequireAction(Actions.RepoProtect);
    }

    private static async Task ServeAsync(string name, string service, HttpContext context, ServerOptions options, ProjectStore projects,
        ChangeDetector? afterPush, CancellationToken ct)
    {
        var root = ProjectService.HostedRoot(options);
        var project = await projects.FindAsync(name);
        var repository = Path.Combine(root, name + ".git");
        if (project is null || !Directory.Exists(repository))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync($"no hosted repository named '{name}'\n", ct);
            return;
        }
        var request = context.Request;
        var user = context.RequireUser();
        var psi = GitCli.StartInfo(root, ["http-backend"]);
        psi.StandardOutputEncoding = null;
        psi.StandardErrorEncoding = null;
        var env = psi.Environment;
        env["GIT_PROJECT_ROOT"] = root;
        env["GIT_HTTP_EXPORT_ALL"] = "1";
        env["PATH_INFO"] = "/" + name + ".git" + service;
        env["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        env["REQUEST_METHOD"] = request.Method;
        env["CONTENT_TYPE"] = request.ContentType ?? "";
        env["REMOTE_USER"] = user.Username;
        env["REMOTE_ADDR"] = context.Connection.RemoteIpAddress?.ToString() ?? "";
        if (request.ContentLength is { } length) env["CONTENT_LENGTH"] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // http-backend inflates a gzip request body itself (git sends one for large fetch negotiations).
        if (request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding) env["HTTP_CONTENT_ENCODING"] = encoding;
        if (request.Headers["Git-Protocol"].ToString() is { Length: > 0 } protocol) env["GIT_PROTOCOL"] = protocol;

        Stream body = request.Body;
        IReadOnlyList<string> createdReleaseTags = [];
        IReadOnlyList<PushCommand> pushed = [];
        IReadOnlyList<string> tipsBefore = [];
        // One push at a time into a repository, whichever node serves it (the hosted directory is shared): the
        // protected-branch check and git's update then see the same refs.
        // The wait is bounded: each waiter holds a database connection, and a slow client can keep a push open.
        await using var repositoryLock = afterPush is null ? null
            : await context.RequestServices.GetRequiredService<DatabaseLocks>().AcquireAsync(ProjectService.RepositoryLock(project), ct, TimeSpan.FromMinutes(1));
        if (afterPush is not null)
        {
            // Read the command list (old new ref) before git sees anything; a push touching a protected branch
            // is refused whole, with a report git shows per ref, and audited.
            if (env.ContainsKey("HTTP_CONTENT_ENCODING"))
            {
                if (!request.Headers.ContentEncoding.ToString().Equals("gzip", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("unsupported Content-Encoding");
                body = new System.IO.Compression.GZipStream(body, System.IO.Compression.CompressionMode.Decompress);
                env.Remove("HTTP_CONTENT_ENCODING");
                env.Remove("CONTENT_LENGTH");
            }
            var (commands, capabilities, consumed) = await PushGuard.ReadCommandsAsync(body, ct);
            var protection = await context.RequestServices.GetRequiredService<ReleaseSettingsStore>().GetAsync(project);
            var refusal = await PushGuard.CheckAsync(project, commands, repository, protection,
                user.Permissions.CanOnProject(Actions.RepoProtect, project.Name), options.GitTimeout, ct);
            if (refusal is not null)
            {
                await context.RequestServices.GetRequiredService<Audit.AuditLog>().RecordAsync(
                    Audit.AuditHttp.Record(context, user, Actions.RepoPush, Core.Audit.AuditOutcomes.Denied, refusal));
                await PushGuard.WriteRefusalAsync(context.Response, commands, capabilities, refusal, ct);
                return;
            }
            body = new PrefixedStream(consumed, body);
            pushed = commands;
            tipsBefore = await PushRecorder.TipsAsync(repository, options.GitTimeout, ct);
            // Evidence of who made which release tag: the pusher holds repo.protect, or the push was refused above.
            createdReleaseTags = commands.Where(c => c.Ref.StartsWith("refs/tags/", StringComparison.Ordinal) && PushCommand.IsZero(c.Old)
                                                     && Core.Releases.ProtectedTags.IsProtected(c.Ref["refs/tags/".Length..], protection.ProtectedTags))
                .Select(c => c.Ref["refs/tags/".Length..]).ToList();
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var process = Process.Start(psi) ?? throw new GitException("could not start git http-backend");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var input = Task.Run(async () =>
        {
            try { await body.CopyToAsync(process.StandardInput.BaseStream, ct); }
            catch (IOException) { } // git stopped reading: its answer says why
            finally { try { process.StandardInput.Close(); } catch (IOException) { } }
        }, ct);
        try
        {
            var stdout = process.StandardOutput.BaseStream;
            var status = await CopyCgiHeadersAsync(stdout, context.Response, ct);
            context.Response.StatusCode = status;
            await stdout.CopyToAsync(context.Response.Body, ct);
            await input;
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        finally
        {
            // Whatever became of the request (a client gone after git updated the refs included), the commits that reached
            // the refs are recorded with their pusher, still under the repository's lock.
            if (pushed.Count > 0)
            {
                using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
                    try { await process.WaitForExitAsync(exited.Token); } catch (OperationCanceledException) { }
                await context.RequestServices.GetRequiredService<PushRecorder>().RecordAsync(project, user.Username, repository,
                    pushed, tipsBefore, options.GitTimeout, CancellationToken.None);
            }
        }
        var errors = await stderr;
        if (process.ExitCode != 0 || errors.Length > 0)
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Slipway.GitHttp")
                .LogWarning("git http-backend {Service} for {Project} exited {Code}: {Error}", service, name, process.ExitCode, errors.Trim());
        if (afterPush is not null && context.Response.StatusCode < 400)
        {
            if (createdReleaseTags.Count > 0 && process.ExitCode == 0)
                await context.RequestServices.GetRequiredService<Audit.AuditLog>().RecordAsync(Audit.AuditHttp.Record(context, user, Actions.RepoPush,
                    Core.Audit.AuditOutcomes.Succeeded, $"protected release tag(s) created by push: {string.Join(", ", createdReleaseTags)}"));
            await afterPush.CheckAsync(project, CancellationToken.None);
        }
    }

    /// <summary>Reads the CGI header block (up to the empty line) into the response; returns the status.</summary>
    private static async Task<int> CopyCgiHeadersAsync(Stream stdout, HttpResponse response, CancellationToken ct)
    {
        var status = StatusCodes.Status200OK;
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            line.Clear();
            while (true)
            {
                if (await stdout.ReadAsync(one, ct) == 0) return line.Count == 0 ? status : throw new GitException("git http-backend ended its headers early");
                if (one[0] == '\n') break;
                if (line.Count > 8192) throw new GitException("git http-backend sent an over-long header");
                line.Add(one[0]);
            }
            var text = Encoding.ASCII.GetString(line.ToArray()).TrimEnd('\r');
            if (text.Length == 0) return status;
            var colon = text.IndexOf(':');
            if (colon <= 0) continue;
            var key = text[..colon].Trim();
            var value = text[(colon + 1)..].Trim();
            if (key.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                if (int.TryParse(value.Split(' ')[0], out var code)) status = code;
            }
            else response.Headers[key] = value;
        }
    }
}
