using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using static Slipway.Server.Web.WebUi;
using static Slipway.Server.Deployments.DeploymentPages;

namespace Slipway.Server.Targets;

/// <summary>
/// The environment page's forms for the last mile: add, change, disable, enable, remove and scan targets; set and remove
/// load balancers. Each goes to <see cref="TargetService"/>, as the API does (same checks, same audit entries).
/// </summary>
public static class TargetPages
{
    public static void MapTargetPages(this IEndpointRouteBuilder app)
    {
        const string Targets = "/projects/{name}/environments/{env}/targets";
        app.MapPost(Targets, (string name, string env, HttpContext context, TargetService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var t = await service.SaveAsync(Actor.Of(context), name, env, null, FromForm(form, Field(form, "name")?.Trim()));
            return $"Target {t.Name} added." + (t.HostKey is null && t.NodeAgent is null ? " No host key is pinned yet: every connection to it is refused until one is (Scan, then pin it)." : "");
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost(Targets + "/{target}/edit", (string name, string env, string target, HttpContext context, TargetService service) =>
            Act(context, EnvironmentPath(name, env), async form =>
        {
            await service.SaveAsync(Actor.Of(context), name, env, target, FromForm(form, null));
            return $"Target {target} changed.";
        })).RequirePageAction(Actions.EnvironmentManage);
        foreach (var (verb, disabled) in new[] { ("disable", true), ("enable", false) })
            app.MapPost(Targets + "/{target}/" + verb, (string name, string env, string target, HttpContext context, TargetService service) =>
                Act(context, EnvironmentPath(name, env), async () =>
            {
                await service.SaveAsync(Actor.Of(context), name, env, target, new TargetRequest(null, null, null, null, null, null, null, disabled));
                return disabled ? $"Target {target} disabled: no rollout touches it." : $"Target {target} enabled.";
            })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost(Targets + "/{target}/remove", (string name, string env, string target, HttpContext context, TargetService service) =>
            Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.RemoveAsync(Actor.Of(context), name, env, target);
            return $"Target {target} removed.";
        })).RequirePageAction(Actions.EnvironmentManage);
        // Shows the key the target offers now; pinning it is a second, deliberate step with the fingerprint the person read.
        app.MapPost(Targets + "/{target}/scan", (string name, string env, string target, HttpContext context, TargetService service) =>
            Act(context, EnvironmentPath(name, env), async form =>
        {
            var scan = await service.ScanAsync(Actor.Of(context), name, env, target, Optional(form, "accept"), context.RequestAborted);
            return scan.Stored ? $"Host key of {target} pinned: {scan.KeyType} {scan.Fingerprint}."
                : scan.Pinned == scan.Fingerprint ? $"{target} offers {scan.KeyType} {scan.Fingerprint}, the key already pinned."
                : $"{target} offers {scan.KeyType} {scan.Fingerprint}" + (scan.Pinned is { } old ? $"; THE PINNED KEY DIFFERS ({old})" : "; no key is pinned") +
                  ". Check it on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then scan again with that fingerprint in the field to pin it.";
        })).RequirePageAction(Actions.EnvironmentManage);

        const string Balancers = "/projects/{name}/environments/{env}/balancers";
        app.MapPost(Balancers, (string name, string env, HttpContext context, TargetService service) => Act(context, EnvironmentPath(name, env), async form =>
        {
            var balancer = Field(form, "name")?.Trim() ?? "";
            var kind = Optional(form, "kind") ?? "haproxy";
            var b = await service.SaveBalancerAsync(Actor.Of(context), name, env, balancer, new BalancerRequest(kind,
                kind == "script" ? null : Optional(form, "address"), Number(Optional(form, "minHealthy"), "min healthy"),
                Optional(form, "drainTimeout"),
                kind == "script" ? Optional(form, "drainCommand") : null, kind == "script" ? Optional(form, "enableCommand") : null,
                kind == "script" ? Optional(form, "statusCommand") : null));
            return $"Load balancer {b.Name} ({b.Kind}) saved.";
        })).RequirePageAction(Actions.EnvironmentManage);
        app.MapPost(Balancers + "/{balancer}/remove", (string name, string env, string balancer, HttpContext context, TargetService service) =>
            Act(context, EnvironmentPath(name, env), async () =>
        {
            await service.RemoveBalancerAsync(Actor.Of(context), name, env, balancer);
            return $"Load balancer {balancer} removed.";
        })).RequirePageAction(Actions.EnvironmentManage);
    }

    /// <summary>
    /// A target as the add or edit form posts it. The form shows every field, so an empty load-balancer server, host key or
    /// node agent means none (where the API's PATCH keeps what it is not given).
    /// </summary>
    private static TargetRequest FromForm(IFormCollection form, string? name) => new(
        name,
        Optional(form, "host"),
        Number(Optional(form, "port"), "SSH port"),
        Optional(form, "user"),
        Words(form, "roles"),
        Field(form, "balancerServer")?.Trim() ?? "",
        Field(form, "hostKey")?.Trim() ?? "",
        null,
        Field(form, "nodeAgent")?.Trim() ?? "");
}
