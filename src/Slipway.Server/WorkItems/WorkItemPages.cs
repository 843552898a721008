using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Environments;
using Slipway.Core.WorkItems;

using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.WorkItems;

/// <summary>
/// Work item pages: the list and the board (one column per derived state) of a project, one item with its
/// timeline, and the analyst's create and edit forms. The forms go to <see cref="WorkItemService"/>, as the API does,
/// so validation, numbering and audit are the same whichever way an item is written.
/// </summary>
public static class WorkItemPages
{
    internal static void MapWorkItemPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/items", (string name, string? state, HttpContext context, ProjectStore projects, WorkItemService service) =>
            ItemsPageAsync<WorkItemsPage>(name, state, context, projects, service)).RequirePageAction(Actions.ItemRead);
        app.MapGet("/projects/{name}/board", (string name, HttpContext context, ProjectStore projects, WorkItemService service,
            EnvironmentStore environments) => BoardPageAsync(name, context, projects, service, environments)).RequirePageAction(Actions.ItemRead);
        // Both views carry the create form; ?view= says which one a refusal returns to.
        app.MapPost("/projects/{name}/items/create", (string name, string? view, HttpContext context, WorkItemService service) => Act(context, ItemsPath(name, view), async form =>
        {
            var request = new CreateWorkItemRequest(form["title"].ToString(), form["description"].ToString(), Field(form, "kind"));
            var item = await service.CreateAsync(Actor.Of(context), name, request);
            return ($"{item.Key} created.", ItemPath(name, item.Number));
        })).RequirePageAction(Actions.ItemWrite);

        app.MapGet("/projects/{name}/items/{number:long}", async (string name, long number, HttpContext context, WorkItemService service) =>
            Page<WorkItemPage>(context, new { Item = await service.ShowAsync(name, number, context.RequireUser()) }))
            .RequirePageAction(Actions.ItemRead);
        // A key in the address (/projects/shop/items/SHOP-42), as people write it, leads to the item's page.
        app.MapGet("/projects/{name}/items/{key}", async (string name, string key, WorkItemService service) =>
            Results.Redirect(ItemPath(name, await service.NumberOfAsync(name, key))))
            .RequirePageAction(Actions.ItemRead);
        app.MapPost("/projects/{name}/items/{number:long}/edit", (string name, long number, HttpContext context, ProjectStore projects,
            WorkItemStore items, WorkItemService service) => Act(context, ItemPath(name, number), async form =>
        {
            var project = await projects.RequireAsync(name);
            var current = await items.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{name}' has no work item {number}");
            var request = ChangesFrom(form, current);
            if (request is (null, null, null)) return ("Nothing to save: no field was changed.", (string?)null);
            var item = await service.UpdateAsync(Actor.Of(context), name, number, request);
            return ($"{item.Key} saved.", null);
        })).RequirePageAction(Actions.ItemWrite);
    }

    internal static async Task<IResult> ItemsPageAsync<TPage>(string name, string? state, HttpContext context, ProjectStore projects,
        WorkItemService service) where TPage : IComponent
    {
        var list = await service.ListAsync(name, state);
        var project = await projects.RequireAsync(name);
        return Page<TPage>(context, new { Project = project.ToDto(), Items = list });
    }

    /// <summary>The board: a column per derived state, then one per environment of the project in lifecycle order.</summary>
    internal static async Task<IResult> BoardPageAsync(string name, HttpContext context, ProjectStore projects, WorkItemService service,
        EnvironmentStore environments)
    {
        var list = await service.ListAsync(name, null);
        var project = await projects.RequireAsync(name);
        var lifecycle = Lifecycle.Ordered((await environments.ListAsync(project.Id)).Select(e => e.Settings)).Select(e => e.Name).ToList();
        return Page<WorkItemBoardPage>(context, new { Project = project.ToDto(), Items = list, Environments = lifecycle });
    }

    /// <summary>
    /// The edit form sends every field; only those that differ from the stored item are changed, so the audit entry
    /// names what was really edited. A field missing from the post is left as it is.
    /// </summary>
    internal static UpdateWorkItemRequest ChangesFrom(IFormCollection form, WorkItemRow current)
    {
        var title = Field(form, "title");
        var description = Field(form, "description");
        var kind = Field(form, "kind");
        // Browsers send a textarea's line breaks as CRLF; compare the text as it would be stored.
        var storedDescription = description is null ? null : WorkItemText.NormaliseDescription(description).Text;
        return new UpdateWorkItemRequest(
            title == current.Title ? null : title,
            description is null || storedDescription == current.Description ? null : description,
            kind == current.Kind ? null : kind);
    }


    internal static string ItemsPath(string project, string? view) =>
        $"/projects/{Uri.EscapeDataString(project)}/{(view == "board" ? "board" : "items")}";

    internal static string ItemPath(string project, long number) => $"/projects/{Uri.EscapeDataString(project)}/items/{number}";
}
