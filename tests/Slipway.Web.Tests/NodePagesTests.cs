using System.Net.Http.Json;
using Dapper;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>The nodes page through a real browser: each node's state and open requests, drain until drained, remove a lost node.</summary>
public sealed class NodePagesTests
{
    [Fact]
    public async Task NodesPage_DrainsThisNodeUntilDrained_RemovesALostOne_AndOffersNothingToAViewer()
    {
        await using var server = await SlipwayTestServer.StartAsync(o =>
        {
            o.EmbeddedAgent = false;
            o.NodeName = "page-node";
            o.NodeHeartbeatInterval = TimeSpan.FromMilliseconds(500);
            o.DutyLeaseTime = TimeSpan.FromSeconds(2);
        });
        // A node that stopped beating long ago: lost.
        await server.Service<SqlDatabase>().WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO server_nodes (name, version, started_at, heartbeat_at, draining) VALUES ('old-node', 'old', 0, 0, 0)", transaction: tx));
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("vera", "Vera", "viewer");
        // Otto watches the nodes (a custom role with node.read) but may not drain or remove them.
        Assert.True((await api.Http.PostAsJsonAsync("/api/v1/roles", new CreateRoleRequest("node-watcher", null, ["node.read"]))).IsSuccessStatusCode);
        await api.CreateUserAsync("otto", "Otto", "viewer");
        Assert.True((await api.Http.PostAsJsonAsync("/api/v1/users/otto/grants", new GrantRequest("node-watcher", null, null))).IsSuccessStatusCode);
        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();

        await page.GotoAsync("/nodes");
        var self = page.Locator("tr[data-node='page-node']");
        var old = page.Locator("tr[data-node='old-node']");
        await Expect(self.Locator("[data-status]")).ToHaveAttributeAsync("data-status", "alive");
        await Expect(old.Locator("[data-status]")).ToHaveAttributeAsync("data-status", "lost");
        await Expect(self.Locator("button")).ToHaveTextAsync("Drain");
        await Expect(old.Locator("button")).ToHaveTextAsync("Remove"); // only a node that is not alive can be removed

        await old.Locator("button").ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Node 'old-node' removed from the list.");
        await Expect(old).ToHaveCountAsync(0);

        await self.Locator("button").ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Node 'page-node' drains.");
        await Expect(self.Locator("button")).ToHaveTextAsync("Undrain");
        // Drained once it has beaten since, given up its duties and had no open request (this page's own request is over
        // by the next heartbeat).
        await Eventually.ValueAsync(async () =>
        {
            await page.ReloadAsync();
            return await self.Locator("[data-status]").GetAttributeAsync("data-status") == "drained" ? "" : null;
        }, TimeSpan.FromSeconds(15), "the node page to show the node drained");
        await Expect(self.Locator("[data-open-requests]")).ToHaveAttributeAsync("data-open-requests", "0");
        Assert.Contains(admin.Confirms, c => c.StartsWith("Remove node old-node from the list?"));
        Assert.Contains(admin.Confirms, c => c.StartsWith("Drain node page-node?"));

        // A watcher sees the nodes and what they wait for, and is offered no button; a plain viewer may not even read them.
        await using var watcher = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(watcher.Page, "otto");
        await watcher.Page.GotoAsync("/nodes");
        // (drained, or draining if this very page was in hand at a heartbeat)
        await Expect(watcher.Page.Locator("tr[data-node='page-node'] [data-status]")).ToHaveAttributeAsync("data-status", new System.Text.RegularExpressions.Regex("^drain(ed|ing)$"));
        await Expect(watcher.Page.Locator("form[action^='/nodes/']")).ToHaveCountAsync(0);

        await using var viewer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(viewer.Page, "vera");
        var refused = await viewer.Page.GotoAsync("/nodes");
        Assert.Equal(403, refused!.Status);
        await Expect(viewer.Page.Locator("form[action$='/remove'], form[action$='/drain']")).ToHaveCountAsync(0);
    }
}
