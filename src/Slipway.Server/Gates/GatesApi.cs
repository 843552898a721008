using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Gates;

/// <summary>
/// Quality gates: an environment's gates (/projects/{name}/environments/{env}/gates, changed with gate.manage), a release's
/// checklist for an environment (/projects/{name}/releases/{version}/gates?env=E), its sign-offs (signing needs
/// release.signoff) and the metrics a run reported (/runs/{id}/metrics). A thin adapter over <see cref="GateService"/>.
/// </summary>
public static class GatesApi
{
    public static void MapGatesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/environments/{env}/gates", (string name, string env, GateService service) => service.ListAsync(name, env))
            .RequireAction(Actions.EnvironmentRead);
        api.MapPost("/projects/{name}/environments/{env}/gates", async (string name, string env, GateRequest? request, HttpContext context, GateService service) =>
        {
            var dto = await service.AddAsync(Actor.Of(context), name, env, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{Uri.EscapeDataString(env)}/gates", dto);
        }).RequireAction(Actions.GateManage);
        api.MapDelete("/projects/{name}/environments/{env}/gates/{id:long}", async (string name, string env, long id, HttpContext context, GateService service) =>
        {
            await service.RemoveAsync(Actor.Of(context), name, env, id);
            return Results.NoContent();
        }).RequireAction(Actions.GateManage);
        api.MapGet("/projects/{name}/releases/{version}/gates", (string name, string version, string? env, GateService service) =>
            service.ChecklistAsync(name, version, env ?? throw new ArgumentException("name the environment: ?env=production"))).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/releases/{version}/signoffs", (string name, string version, GateService service) => service.SignOffsAsync(name, version))
            .RequireAction(Actions.ReleaseRead);
        api.MapPost("/projects/{name}/releases/{version}/signoffs", async (string name, string version, SignOffRequest? request, HttpContext context,
            GateService service) =>
        {
            var dto = await service.SignAsync(Actor.Of(context), name, version, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/releases/{Uri.EscapeDataString(version)}/signoffs", dto);
        }).RequireAction(Actions.ReleaseSignOff);
        api.MapPost("/projects/{name}/releases/{version}/signoffs/{id:long}/attachments", async (string name, string version, long id,
            HttpContext context, GateService service) =>
        {
            // The file is the body (any content type): read at most one byte past the limit, then judged by its content.
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > Core.Gates.AttachmentRules.MaxBytes) throw new ArgumentException($"an attachment is at most {Core.Gates.AttachmentRules.MaxBytes / (1024 * 1024)} MiB");
            }
            var dto = await service.AttachAsync(Actor.Of(context), name, version, id, context.Request.Query["name"].ToString(), buffer.ToArray());
            return Results.Created(dto.Url, dto);
        }).RequireAction(Actions.ReleaseSignOff);
        api.MapGet("/projects/{name}/releases/{version}/signoffs/{id:long}/attachments/{attachment:long}", async (string name, string version, long id, long attachment,
            GateService service) =>
        {
            var (row, content) = await service.OpenAttachmentAsync(name, version, id, attachment);
            // Images inline (a browser only ever draws them); a PDF or text only as a download, never rendered in this origin.
            return Core.Gates.AttachmentRules.IsImage(row.ContentType)
                ? Results.Stream(content, row.ContentType)
                : Results.File(content, row.ContentType, row.Name);
        }).RequireAction(Actions.ReleaseRead);
        api.MapGet("/projects/{name}/deployments/{number:long}/gates", async (string name, long number, ProjectStore projects, DeploymentStore deployments,
            GateService service) =>
        {
            var project = await projects.RequireAsync(name);
            var d = await deployments.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{name}' has no deployment #{number}");
            return await service.ResultsOfAsync(d.Id);
        }).RequireAction(Actions.DeploymentRead);
        api.MapGet("/runs/{id:long}/metrics", async (long id, GateStore gates) =>
            (await gates.MetricsOfRunAsync(id)).Select(m => m.ToDto()).ToList())
            .RequireAction(Actions.RunRead);
    }
}
