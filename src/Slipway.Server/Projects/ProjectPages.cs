using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Runs;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Projects;

/// <summary>The projects list (the home page) and one project with its branches, runs and settings.</summary>
public static class ProjectPages
{
    public static void MapProjectPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", async (HttpContext context, ProjectStore projects, RunStore runs, DeploymentStore deployments) =>
        {
            var me = context.RequireUser();
            var visible = (await projects.ListAsync()).Where(p => me.Permissions.CanOnProject(Actions.ProjectRead, p.Name)).ToList();
            var latest = await runs.LatestCiAsync(visible.Select(p => p.Id).ToList());
            var list = visible.Select(p => (p.ToDto(), latest.GetValueOrDefault(p.Id)?.ToSummary())).ToList();
            return Page<ProjectsPage>(context, new { Projects = list, Waiting = await WaitingDeployments.ForAsync(me, deployments) });
        }).RequirePageAction(Actions.UiView);

        // The address of the creation form's answer: reloading it (a GET) lands on the projects page, not on "no page".
        app.MapGet("/projects", () => Results.Redirect("/")).RequirePageAction(Actions.UiView);

        // Not post/redirect/get on success: the answer carries the webhook secret, shown once, which must never be in an address.
        app.MapPost("/projects", (HttpContext context, ProjectService service, CancellationToken ct) => AnswerOnce(context, "/", async form =>
        {
            // Everything filled in goes to the service, which refuses a hosted project with a repository address or credential.
            var hosted = Checked(form, "hosted");
            var request = new CreateProjectRequest(Field(form, "name")?.Trim() ?? "", Optional(form, "repo"), Optional(form, "branch"), hosted,
                Optional(form, "gitUsername"), Field(form, "gitPassword") is { Length: > 0 } password ? password : null);
            var created = await service.CreateAsync(Actor.Of(context), request, ct);
            return Page<ProjectCreatedPage>(context, new { Created = created, Hosted = hosted, Server = ServerAddress(context) });
        })).RequirePageAction(Actions.ProjectCreate);

        app.MapGet("/projects/{name}", async (string name, HttpContext context, ProjectStore projects, RunStore runs, RepositorySettingsService settings,
            DeploymentViews views) =>
        {
            var project = await projects.RequireAsync(name);
            var branches = await ProjectsApi.BranchViewsAsync(project, projects, runs);
            // CI runs only: a deployment's run is not a build of its branch (it is on the deployment's page).
            var list = (await runs.ListAsync(project.Id, 50, RunKinds.Ci)).Select(r => r.ToSummary()).ToList();
            var directPushes = await settings.DirectPushesAsync(name);
            var releaseBranches = await settings.ReleaseBranchesAsync(name);
            return Page<ProjectPage>(context, new
            {
                Project = project.ToDto(), Branches = branches, Runs = list, DirectPushes = directPushes, ReleaseBranches = releaseBranches,
                // The environment strip, for those who may see deployments.
                Environments = context.RequireUser().Permissions.CanOnProject(Actions.DeploymentRead, name)
                    ? await views.DashboardAsync(name) : null,
            });
        }).RequirePageAction(Actions.ProjectRead);
    }
}
