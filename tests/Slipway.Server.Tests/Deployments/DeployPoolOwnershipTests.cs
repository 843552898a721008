using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>
/// A pool's agents reach the servers of every environment deploying through it. An admin of one project (who sets that
/// project's approvals, so controls what its deployments run) must not send them to another project's production
/// agents: a pool another project uses is given only by someone with env.manage on every project.
/// </summary>
public sealed class DeployPoolOwnershipTests
{
    private static EnvironmentRequest Env(string name, string? pool) => new(name, null, null, pool, null, null, null, null, null);

    [Fact]
    public async Task AProjectAdmin_CannotGiveTheirEnvironmentAnotherProjectsPool_AGlobalAdminCan_AndTheirOwnPoolsAreFree()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var shop = Pipelines.Repo(Pipelines.OneJob("true"));
        using var billing = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", shop.Path, "main");
        await server.Client.CreateProjectAsync("billing", billing.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", Env("production", "shop-prod"));
        using var mallory = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "mallory", BuiltInRoles.Admin, "billing"));

        var taken = await Assert.ThrowsAsync<SlipwayApiException>(() => mallory.CreateEnvironmentAsync("billing", Env("live", "shop-prod")));
        var own = await mallory.CreateEnvironmentAsync("billing", Env("live", "billing-deploy"));
        var sameProject = await mallory.CreateEnvironmentAsync("billing", Env("staging", "billing-deploy"));
        var moved = await Assert.ThrowsAsync<SlipwayApiException>(() => mallory.EditEnvironmentAsync("billing", "live", Env("live", "shop-prod")));
        var otherSetting = await mallory.EditEnvironmentAsync("billing", "live", new EnvironmentRequest(null, null, null, null, null, 1, null, null, null));
        var byGlobalAdmin = await server.Client.CreateEnvironmentAsync("billing", Env("dr", "shop-prod"));

        Assert.Equal(HttpStatusCode.Forbidden, taken.Status);
        Assert.Contains("pool 'shop-prod' already deploys environments of another project or has agents serving it, and they may reach other " +
                        "servers: only someone with env.manage on every project may give it to an environment of 'billing'", taken.Message);
        Assert.Equal(HttpStatusCode.Forbidden, moved.Status);
        Assert.Equal(("billing-deploy", "billing-deploy"), (own.Pool, sameProject.Pool));
        Assert.Equal(("billing-deploy", 1), (otherSetting.Pool, otherSetting.RequiredApprovals));
        Assert.Equal("shop-prod", byGlobalAdmin.Pool);
        Assert.Contains(byGlobalAdmin.Warnings!, w => w.StartsWith("pool 'shop-prod' also deploys environments of other projects"));
        Assert.DoesNotContain(own.Warnings ?? [], w => w.Contains("also deploys environments of other projects"));
        var environments = await server.Client.ListEnvironmentsAsync("billing");
        Assert.Equal(["dr", "live", "staging"], environments.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal("billing-deploy", environments.Single(e => e.Name == "live").Pool);
    }

    /// <summary>A pool no environment uses yet but another project's jobs run in (its CI pool) is not free for the taking either.</summary>
    [Fact]
    public async Task AProjectAdmin_CannotTakeAPoolAnotherProjectsJobsRunIn()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var shop = Pipelines.Repo("stages:\n  - name: s\n    jobs:\n      - name: b\n        pool: shop-agents\n        run: \"true\"\n");
        using var billing = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", shop.Path, "main"); // its first run queues a job in shop-agents
        await server.Client.CreateProjectAsync("billing", billing.Path, "main");
        using var mallory = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "mallory", BuiltInRoles.Admin, "billing"));

        var taken = await Assert.ThrowsAsync<SlipwayApiException>(() => mallory.CreateEnvironmentAsync("billing", Env("live", "shop-agents")));

        Assert.Equal(HttpStatusCode.Forbidden, taken.Status);
        Assert.Contains("pool 'shop-agents' already deploys environments of another project or has agents serving it", taken.Message);
        Assert.Empty(await server.Client.ListEnvironmentsAsync("billing")); // no environment nor agent uses it: the jobs refused it
    }
}
