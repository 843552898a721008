using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;
using static Slipway.Server.Deployments.DeploymentPages;

namespace Slipway.Server.Gates;

/// <summary>
/// The environment page's quality-gate forms: add a gate and remove one. Each goes to <see cref="GateService"/>, as
/// <see cref="GatesApi"/> does (same checks, same audit entries, gate.manage on the environment).
/// </summary>
public static class GatePages
{
    public static void MapGatePages(this IEndpointRouteBuilder app)
    {
        const string Gates = "/projects/{name}/environments/{env}/gates";
        app.MapPost(Gates, (string name, string env, HttpContext context, GateService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            // The form has the fields of every kind; the service reads those of the kind chosen, as it does for the API.
            var gate = await service.AddAsync(Actor.Of(context), name, env, new GateRequest(Optional(form, "kind"), Optional(form, "measuredOn"),
                Optional(form, "rule"), Optional(form, "signOffKind"), Optional(form, "role")));
            return $"Gate added to {env}: {gate.Description}.";
        })).RequirePageAction(Actions.GateManage);
        app.MapPost(Gates + "/{id:long}/remove", (string name, string env, long id, HttpContext context, GateService service) =>
            Act(context, EnvironmentPath(name, env), async () =>
        {
            var gate = await service.RemoveAsync(Actor.Of(context), name, env, id);
            return $"Gate removed from {env}: {gate.Description}.";
        })).RequirePageAction(Actions.GateManage);
    }
}
