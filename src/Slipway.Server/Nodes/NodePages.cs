using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Nodes;

/// <summary>The nodes page: every server node with its version, heartbeat and duties; drain, undrain, remove.</summary>
public static class NodePages
{
    public static void MapNodePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/nodes", async (HttpContext context, NodeService nodes) =>
            Page<NodesPage>(context, new { Nodes = await nodes.ListAsync() })).RequirePageAction(Actions.NodeRead);
        app.MapPost("/nodes/{node}/drain", (string node, HttpContext context, NodeService nodes) =>
            Act(context, "/nodes", async () => { await nodes.SetDrainingAsync(Actor.Of(context), node, draining: true); return $"Node '{node}' drains."; }))
            .RequirePageAction(Actions.NodeDrain);
        app.MapPost("/nodes/{node}/undrain", (string node, HttpContext context, NodeService nodes) =>
            Act(context, "/nodes", async () => { await nodes.SetDrainingAsync(Actor.Of(context), node, draining: false); return $"Node '{node}' no longer drains."; }))
            .RequirePageAction(Actions.NodeDrain);
        app.MapPost("/nodes/{node}/remove", (string node, HttpContext context, NodeService nodes) =>
            Act(context, "/nodes", async () => { await nodes.RemoveAsync(Actor.Of(context), node); return $"Node '{node}' removed from the list."; }))
            .RequirePageAction(Actions.NodeDrain);
    }
}
