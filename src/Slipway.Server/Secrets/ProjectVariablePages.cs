using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;

namespace Slipway.Server.Secrets;

/// <summary>The project's variables page and its forms, over <see cref="ProjectVariableService"/> as the API is.</summary>
public static class ProjectVariablePages
{
    public static void MapProjectVariablePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{name}/variables", async (string name, HttpContext context, ProjectVariableService service) =>
            Page<ProjectVariablesPage>(context, new { Project = name, Variables = await service.ListAsync(name) })).RequirePageAction(Actions.VariableRead);
        app.MapPost("/projects/{name}/variables", (string name, HttpContext context, ProjectVariableService service) => Act(context, PathOf(name), async form =>
        {
            var variable = Field(form, "name")?.Trim() ?? "";
            var secret = Checked(form, "secret");
            var reaches = Choice(form, "protected", "where the variable reaches");
            var set = await service.SetAsync(Actor.Of(context), name, variable, new SetVariableRequest(TextareaValue(form, "value"), secret, reaches));
            return $"{(secret ? "Secret" : "Variable")} {variable} set; it reaches {(set.Protected ? "protected branches and deployments only" : "every branch")}.";
        })).RequirePageAction(Actions.VariableWrite);
        app.MapPost("/projects/{name}/variables/{variable}/delete", (string name, string variable, HttpContext context, ProjectVariableService service) =>
            Act(context, PathOf(name), async () =>
        {
            await service.DeleteAsync(Actor.Of(context), name, variable);
            return $"Variable {variable} deleted.";
        })).RequirePageAction(Actions.VariableWrite);
    }

    private static string PathOf(string project) => $"/projects/{Uri.EscapeDataString(project)}/variables";
}
