using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Releases;
using Slipway.Core.Repositories;

namespace Slipway.Server.Projects;

/// <summary>/api/v1/projects: create, list, branches, runs of a project.</summary>
public static class ProjectsApi
{
    public static void MapProjectsApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/projects", CreateAsync).RequireAction(Actions.ProjectCreate);
        // Allowed with a grant on any project; lists only the projects the caller may read.
        api.MapGet("/projects", async (HttpContext context, ProjectStore projects) => (await projects.ListAsync())
                .Where(p => context.RequireUser().Permissions.CanOnProject(Actions.ProjectRead, p.Name)).Select(p => p.ToDto()))
            .RequireAction(Actions.ProjectRead);
        api.MapGet("/projects/{name}", async (string name, ProjectStore projects) => (await projects.RequireAsync(name)).ToDto())
            .RequireAction(Actions.ProjectRead);
        api.MapGet("/projects/{name}/branches", BranchesAsync).RequireAction(Actions.ProjectRead);
        api.MapPost("/projects/{name}/runs", async (string name, StartRunRequest? request, HttpContext context, RunService service, CancellationToken ct) =>
        {
            var id = await service.StartAsync(Actor.Of(context), name, request, ct);
            return Results.Created($"/api/v1/runs/{id}", new RunCreatedDto(id));
        }).RequireAction(Actions.RunStart);
        // Every kind by default, each run saying its kind; ?kind=ci for builds only, ?kind=deployment for deployment runs.
        api.MapGet("/projects/{name}/runs", async (string name, int? limit, string? kind, ProjectStore projects, RunStore runs) =>
                (await runs.ListAsync((await projects.RequireAsync(name)).Id, Math.Clamp(limit ?? 50, 1, 500), string.IsNullOrEmpty(kind) ? null : kind)).Select(r => r.ToSummary()))
            .RequireAction(Actions.RunRead);
    }

    private static async Task<IResult> CreateAsync(CreateProjectRequest request, HttpContext context, ProjectService service, CancellationToken ct)
    {
        if (request.Hosted && (!string.IsNullOrEmpty(request.Repo) || !string.IsNullOrEmpty(request.Branch) || request.GitUsername is not null))
            throw new ProjectException("a hosted project takes no repo, branch or credential: Slipway makes its repository (branch main)");
        if ((request.GitUsername is null) != (request.GitPassword is null))
            throw new ProjectException("give both gitUsername and gitPassword, or neither");
        ProjectRow project;
        if (request.Hosted) project = await service.CreateHostedAsync(request.Name ?? "", ct);
        else
        {
            // Checked before git sees it: unsupported transports and remote helpers (ext::, fd::) are refused here.
            var address = RepositoryUrl.Parse(request.Repo);
            // A path on the server's disk is read with the server's rights: only for holders of project.local-repo (admins).
            if (address.Transport == RepositoryTransport.Local && !context.RequireUser().Permissions.Can(Actions.ProjectLocalRepo))
            {
                var refusal = $"{context.RequireUser().Username} may not {Actions.ProjectLocalRepo}: a project from a path on the server's disk needs an admin; " +
                              "use an https, http, ssh or git URL";
                await context.AuditAsync(Actions.ProjectLocalRepo, AuditOutcomes.Denied, $"project:{request.Name}", refusal);
                return Results.Json(new ErrorDto(refusal), statusCode: StatusCodes.Status403Forbidden);
            }
            project = await service.CreateAsync(request.Name ?? "", address, request.Branch, ct,
                request.GitUsername is null ? null : (request.GitUsername, request.GitPassword!));
            if (address.HasCredential)
                await context.AuditAsync(Actions.ProjectCreate, AuditOutcomes.Succeeded, $"project:{project.Name}",
                    "the credential in the repository address was taken out of it and stored encrypted");
        }
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(project.Name)}",
            new ProjectCreatedDto(project.Name, project.RepoUrl, project.DefaultBranch, request.Hosted ? null : project.WebhookSecret));
    }

    private static async Task<IReadOnlyList<BranchDto>> BranchesAsync(string name, ProjectStore projects, RunStore runs) =>
        await BranchViewsAsync(await projects.RequireAsync(name), projects, runs);

    /// <summary>Every branch of the project with its newest run (the API's branch list and the project page).</summary>
    public static async Task<IReadOnlyList<BranchDto>> BranchViewsAsync(ProjectRow project, ProjectStore projects, RunStore runs)
    {
        var latest = (await runs.LatestPerBranchAsync(project.Id)).ToDictionary(r => r.Branch);
        return (await projects.BranchesAsync(project.Id))
            .Select(b => new BranchDto(b.Name, b.Head, latest.TryGetValue(b.Name, out var r) ? r.ToSummary() : null)).ToList();
    }
}
