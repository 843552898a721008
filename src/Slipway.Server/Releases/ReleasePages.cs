using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Releases;

/// <summary>
/// Release pages: a project's releases, one release (artifacts with digests, notes, items, pipeline snapshot), and
/// the two "release this run" forms (on the run page and on the list). Both forms run
/// <see cref="ReleaseService.CreateByHandAsync"/>, as the API does, so the checks and the audit entry are the same.
/// </summary>
public static class ReleasePages
{
    /// <summary>How many recent runs the release list looks through for succeeded, unreleased ones to offer.</summary>
    private const int ReleaseCandidateRuns = 50;

    internal static void MapReleasePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/releases", async (string name, HttpContext context, ProjectStore projects, ReleaseViews views, RunStore runs,
            ReleaseSettingsStore releaseSettings) =>
        {
            var project = await projects.RequireAsync(name);
            var list = await views.ListAsync(name);
            var released = list.Select(r => r.RunId).ToHashSet();
            // Only runs of release branches can be released (the server checks again, with the commit's place on the branch).
            var protection = await releaseSettings.GetAsync(project);
            var candidates = (await runs.ListAsync(project.Id, ReleaseCandidateRuns))
                .Where(r => r.Status == "succeeded" && r.Kind == RunKinds.Ci && !released.Contains(r.Id) && protection.Releases(r.Branch))
                .Select(r => r.ToSummary()).ToList();
            return Page<ReleasesPage>(context, new { Project = project.ToDto(), Releases = list, Candidates = candidates });
        }).RequirePageAction(Actions.ReleaseRead);
        app.MapPost("/projects/{name}/releases/create", (string name, HttpContext context, ReleaseService service) =>
            Act(context, ReleasesPath(name), async form =>
            {
                var runId = long.TryParse(form["runId"].ToString(), out var id) ? id : throw new ArgumentException("choose a run to release");
                return await CreateReleaseAsync(name, runId, context, service);
            })).RequirePageAction(Actions.ReleaseCreate);
        // The run's project is the scope (AccessMiddleware resolves it from {id}).
        app.MapPost("/runs/{id:long}/release", (long id, HttpContext context, ReleaseService service, RunStore runs) =>
            Act(context, $"/runs/{id}", async _ =>
            {
                var project = await runs.ProjectNameOfRunAsync(id) ?? throw new KeyNotFoundException($"no run {id}");
                return await CreateReleaseAsync(project, id, context, service);
            })).RequirePageAction(Actions.ReleaseCreate);

        app.MapGet("/projects/{name}/releases/{version}", async (string name, string version, HttpContext context, ProjectStore projects, ReleaseViews views,
            EnvironmentStore environments, DeploymentStore deployments, GateViews gateViews, TimeProvider clock) =>
            Page<ReleasePage>(context, new
            {
                Release = await views.ShowAsync(name, version),
                Quality = await gateViews.ForReleaseAsync(name, version),
                MaySign = context.RequireUser().Permissions.CanOnProject(Actions.ReleaseSignOff, name),
                // Where it is deployed, for those who may see deployments.
                Places = context.RequireUser().Permissions.CanOnProject(Actions.DeploymentRead, name)
                    ? await ReleasePlaces.ForAsync(name, version, projects, environments, deployments, clock) : null,
            }))
            .RequirePageAction(Actions.ReleaseRead);
        app.MapSignOffPage();
    }

    /// <summary>The sign-off form: the same <see cref="GateService.SignAsync"/> as the API (checks, audit entry).</summary>
    internal static void MapSignOffPage(this IEndpointRouteBuilder app) =>
        app.MapPost("/projects/{name}/releases/{version}/signoff", (string name, string version, HttpContext context, GateService service) =>
            Act(context, ReleasePath(name, version), async form =>
            {
                var accepted = Field(form, "verdict") switch { "accept" => true, "reject" => false, _ => throw new ArgumentException("choose accept or reject") };
                var findings = (Field(form, "findings") ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                // Evidence is checked before anything is recorded, so a refused file leaves no sign-off behind.
                var evidence = new List<(string Name, byte[] Content)>();
                foreach (var file in form.Files.Where(f => f.Name == "attachments" && f.Length > 0))
                {
                    if (evidence.Count == Core.Gates.AttachmentRules.MaxPerSignOff) throw new ArgumentException($"at most {Core.Gates.AttachmentRules.MaxPerSignOff} files");
                    if (file.Length > Core.Gates.AttachmentRules.MaxBytes) throw new ArgumentException($"{file.FileName} is larger than 5 MiB");
                    using var content = new MemoryStream();
                    await file.CopyToAsync(content);
                    GateService.CheckAttachment(file.FileName, content.ToArray());
                    evidence.Add((file.FileName, content.ToArray()));
                }
                var signed = await service.SignAsync(Actor.Of(context), name, version, new SignOffRequest(Field(form, "environment"), Field(form, "kind"), accepted,
                    Field(form, "notes"), Field(form, "charter"), int.TryParse(Field(form, "minutes"), out var m) ? m : null, findings, Field(form, "fileFindings") == "1"));
                foreach (var (fileName, content) in evidence) await service.AttachAsync(Actor.Of(context), name, version, signed.Id, fileName, content);
                return $"Your {signed.Kind} sign-off of {version} on {signed.Environment} is recorded: {(accepted ? "accepted" : "rejected")}" +
                       (evidence.Count > 0 ? $" with {evidence.Count} attachment{(evidence.Count == 1 ? "" : "s")}" : "") +
                       (signed.FiledItems.Count > 0 ? $"; filed {string.Join(", ", signed.FiledItems)}." : ".");
            })).RequirePageAction(Actions.ReleaseSignOff);

    internal static async Task<(string Message, string? Next)> CreateReleaseAsync(string project, long runId, HttpContext context, ReleaseService service)
    {
        var release = await service.CreateByHandAsync(Actor.Of(context), project, runId);
        return ($"Release {release.Version} created from run #{release.RunNumber}.", ReleasePath(project, release.Version));
    }

    internal static string ReleasesPath(string project) => $"/projects/{Uri.EscapeDataString(project)}/releases";

    internal static string ReleasePath(string project, string version) => $"{ReleasesPath(project)}/{Uri.EscapeDataString(version)}";
}
