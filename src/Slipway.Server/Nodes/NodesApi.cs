using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Core.Access;

namespace Slipway.Server.Nodes;

/// <summary>/api/v1/nodes: the server nodes and their duties; drain, undrain or remove one. An adapter over <see cref="NodeService"/>.</summary>
public static class NodesApi
{
    public static void MapNodesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/nodes", (NodeService nodes) => nodes.ListAsync()).RequireAction(Actions.NodeRead);
        api.MapPost("/nodes/{name}/drain", (string name, HttpContext context, NodeService nodes) =>
            nodes.SetDrainingAsync(Actor.Of(context), name, draining: true)).RequireAction(Actions.NodeDrain);
        api.MapPost("/nodes/{name}/undrain", (string name, HttpContext context, NodeService nodes) =>
            nodes.SetDrainingAsync(Actor.Of(context), name, draining: false)).RequireAction(Actions.NodeDrain);
        api.MapDelete("/nodes/{name}", async (string name, HttpContext context, NodeService nodes) =>
        {
            await nodes.RemoveAsync(Actor.Of(context), name);
            return Results.NoContent();
        }).RequireAction(Actions.NodeDrain);
    }
}
