using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

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
        // A run by its number in the project (#16, as the web UI, releases and work items name it), not by its id.
        api.MapGet("/projects/{name}/runs/{number:long}", async (string name, long number, ProjectStore projects, RunStore runs, RunService service, PoolPresence presence) =>
            await RunsApi.RunAsync(await runs.IdOfNumberAsync((await projects.RequireAsync(name)).Id, number)
                                   ?? throw new KeyNotFoundException($"project '{name}' has no run #{number}"), service, presence))
            .RequireAction(Actions.RunRead);
    }

    private static async Task<IResult> CreateAsync(CreateProjectRequest request, HttpContext context, ProjectService service, CancellationToken ct)
    {
        var created = await service.CreateAsync(Actor.Of(context), request, ct);
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(created.Name)}", created);
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
