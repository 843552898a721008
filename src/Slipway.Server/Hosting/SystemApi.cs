using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;
using Slipway.Core.Pipelines;
using Slipway.Core.Access;

namespace Slipway.Server.Hosting;

/// <summary>/healthz (public; 503 while the node drains), /metrics (Prometheus, bearer token), /api/v1/openapi.json (the API's description) and /api/v1/lint.</summary>
public static class SystemApi
{
    public static void MapSystemApi(this IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        // A draining node answers 503 so that a load balancer's health check stops sending it new connections; requests
        // already running finish.
        app.MapGet("/healthz", (Nodes.NodeIdentity node) => node.Draining
            ? Results.Json(new { status = "draining", node = node.Name }, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Ok(new { status = "ok", node = node.Name })).RequireAction(Actions.Public).WaitsByDesign();
        // Any signed-in user may read what the API offers; what each call then allows is checked per call.
        app.MapOpenApi("/api/v1/openapi.json").RequireAction(Actions.UiView);
        app.MapGet("/metrics", async (HttpContext context, SlipwayMetrics metrics) =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        }).RequireAction(Actions.MetricsRead).WaitsByDesign(); // a scrape says nothing of the work in hand

        api.MapPost("/lint", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync();
            var result = PipelineParser.Parse(text);
            return Results.Ok(new { valid = result.IsValid, errors = result.Errors.Select(e => e.ToString()) });
        }).RequireAction(Actions.PipelineLint);
    }
}
