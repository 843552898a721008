using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.WorkItems;

namespace Slipway.Server.WorkItems;

/// <summary>
/// Work items of a project: /api/v1/projects/{name}/item-key, /items, /items/{number}. Items are addressed
/// by project and number (not by key alone) so the access check has the project from the route. The state in
/// every answer is derived from the item's links (<see cref="WorkItemStates.Derive"/>); no endpoint sets it.
/// Titles and descriptions are stored verbatim and only ever returned as JSON text. A thin adapter over
/// <see cref="WorkItemService"/>.
/// </summary>
public static class WorkItemsApi
{
    public static void MapWorkItemsApi(this IEndpointRouteBuilder api)
    {
        api.MapPut("/projects/{name}/item-key", (string name, SetItemKeyRequest? request, HttpContext context, WorkItemService service) =>
            service.SetKeyAsync(Actor.Of(context), name, request)).RequireAction(Actions.ItemWrite);
        api.MapPost("/projects/{name}/items", async (string name, CreateWorkItemRequest? request, HttpContext context, WorkItemService service) =>
        {
            var item = await service.CreateAsync(Actor.Of(context), name, request);
            return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/items/{item.Number}", item);
        }).RequireAction(Actions.ItemWrite);
        api.MapGet("/projects/{name}/items", (string name, string? state, WorkItemService service) => service.ListAsync(name, state))
            .RequireAction(Actions.ItemRead);
        api.MapGet("/projects/{name}/items/{number}", (string name, long number, HttpContext context, WorkItemService service) =>
            service.ShowAsync(name, number, context.RequireUser()))
            .RequireAction(Actions.ItemRead);
        api.MapPatch("/projects/{name}/items/{number}", (string name, long number, UpdateWorkItemRequest? request, HttpContext context,
            WorkItemService service) => service.UpdateAsync(Actor.Of(context), name, number, request)).RequireAction(Actions.ItemWrite);
    }
}

