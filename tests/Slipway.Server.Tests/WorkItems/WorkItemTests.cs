using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.WorkItems;

/// <summary>Work items end to end: a real server, git repository and agent; items created by role-holding users.</summary>
public sealed class WorkItemTests
{
    /// <summary>A repository whose branch <c>feature/SHOP-1-cart</c> has one commit more than main, with <paramref name="message"/>.</summary>
    private static GitRepository RepoWithFeatureBranch(string message)
    {
        var repo = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        repo.CreateBranch("feature/SHOP-1-cart");
        repo.Checkout("feature/SHOP-1-cart");
        repo.WriteFile("cart.txt", "total");
        repo.Commit(message);
        repo.Checkout("main");
        return repo;
    }

    private static async Task<SlipwayClient> ProjectWithKeyAsync(SlipwayTestServer server, string repoPath, string analyst = "ann")
    {
        await server.Client.CreateProjectAsync("shop", repoPath, "main");
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        return new SlipwayClient(server.Url, await UserWithRoleAsync(server, analyst, BuiltInRoles.Analyst));
    }

    [Fact]
    public async Task Analyst_CreatesItem_ViewerCannot()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        using var viewer = Http(server, await UserWithRoleAsync(server, "vic", BuiltInRoles.Viewer));

        var item = await analyst.CreateWorkItemAsync("shop", "Cart shows the total", "As a buyer\nI want the total", "feature");
        var refused = await viewer.PostAsync("/api/v1/projects/shop/items", Body(new CreateWorkItemRequest("sneaky", null, null)));
        var seen = await ReadAsync<WorkItemDto>(await Expect(await viewer.GetAsync("/api/v1/projects/shop/items/1"), HttpStatusCode.OK));

        Assert.Equal(("SHOP-1", 1L, "requested", "ann"), (item.Key, item.Number, item.State, item.Requester));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("As a buyer\nI want the total", seen.Description);
        Assert.Single(await server.Client.ListWorkItemsAsync("shop"));
        var audit = await AuditAsync(server, "action=item.write&outcome=succeeded");
        Assert.Contains(audit, e => e.Actor == "ann" && (e.Detail ?? "").StartsWith("work item SHOP-1 created (feature): Cart shows the total"));
    }

    [Fact]
    public async Task RunOnBranchNamingItem_LinksBranchCommitAndRun_AndItemIsInDevelopment()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = RepoWithFeatureBranch("shop-1: cart total");
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        await analyst.CreateWorkItemAsync("shop", "Cart total");
        var commit = repo.Run("rev-parse", "feature/SHOP-1-cart").Trim();

        var runId = (await server.Client.StartRunAsync("shop", "feature/SHOP-1-cart", null)).Id;
        var run = await server.WaitForRunAsync(runId);
        var item = await analyst.GetWorkItemAsync("shop", 1);

        Assert.Equal("succeeded", run.Status);
        Assert.Empty(run.Warnings!);
        Assert.Equal("in_development", item.State);
        var timeline = item.Timeline!;
        Assert.Equal(["created", "branch", "commit", "run"], timeline.Select(e => e.Kind));
        Assert.Equal(("feature/SHOP-1-cart", "Slipway Tests <tests@slipway.invalid>"), (timeline[1].Ref, timeline[1].Who));
        Assert.Equal((commit, "Slipway Tests <tests@slipway.invalid>"), (timeline[2].Ref, timeline[2].Who));
        Assert.Equal((runId, run.Number, "succeeded", "admin"), (timeline[3].RunId, timeline[3].RunNumber, timeline[3].RunStatus, timeline[3].Who));
        Assert.Equal(["SHOP-1"], (await analyst.ListWorkItemsAsync("shop", "in_development")).Select(i => i.Key));
        Assert.Empty(await analyst.ListWorkItemsAsync("shop", "requested"));

        using var admin = Admin(server);
        var page = await (await Expect(await admin.GetAsync("/projects/shop/items/1"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains("feature/SHOP-1-cart", page);
        Assert.Contains($"href=\"/runs/{runId}\"", page);
        Assert.Contains("in_development", page);

        // A second run of the same commit adds a run, not another branch or commit.
        var again = (await server.Client.StartRunAsync("shop", "feature/SHOP-1-cart", null)).Id;
        await server.WaitForRunAsync(again);
        Assert.Equal(["created", "branch", "commit", "run", "run"], (await analyst.GetWorkItemAsync("shop", 1)).Timeline!.Select(e => e.Kind));
    }

    [Fact]
    public async Task PushedBranchNamingItem_IsLinkedByThePoller_WithTheRunStartedByThePush()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(300));
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        await analyst.CreateWorkItemAsync("shop", "Cart total");

        repo.CreateBranch("feature/shop-1-cart");
        repo.Checkout("feature/shop-1-cart");
        repo.WriteFile("cart.txt", "total");
        var sha = repo.Commit("Cart total");
        // The poller may see the new branch before the commit too (a run of main's head on it): wait for the commit's run.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        WorkItemDto item;
        var runs = new List<RunDto>();
        do
        {
            await Task.Delay(200);
            item = await analyst.GetWorkItemAsync("shop", 1);
            runs.Clear();
            foreach (var e in item.Timeline!.Where(e => e.Kind == "run")) runs.Add(await server.Client.GetRunAsync(e.RunId!.Value));
        }
        while (runs.All(r => r.Commit != sha) && DateTime.UtcNow < deadline);

        Assert.Equal("in_development", item.State);
        Assert.Equal(["created", "branch"], item.Timeline!.Take(2).Select(e => e.Kind));
        Assert.Contains(runs, r => r.Commit == sha);
        Assert.All(runs, r => Assert.Equal(("push", "feature/shop-1-cart"), (r.Trigger, r.Branch)));
        Assert.All(item.Timeline!.Where(e => e.Kind == "run"), e => Assert.Null(e.Who)); // started by a push, not by a user
    }

    [Fact]
    public async Task CommitNamingUnknownKey_WarnsOnTheRun_AndTheRunStillSucceeds()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = RepoWithFeatureBranch("SHOP-1: cart total, see SHOP-99 and XSHOP-5");
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        await analyst.CreateWorkItemAsync("shop", "Cart total");

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/SHOP-1-cart", null)).Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["the commit message names work item SHOP-99, which does not exist"], run.Warnings);
        Assert.Equal("in_development", (await analyst.GetWorkItemAsync("shop", 1)).State);
        using var admin = Admin(server);
        var page = await (await Expect(await admin.GetAsync($"/runs/{run.Id}"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains("warning: the commit message names work item SHOP-99, which does not exist", page);
    }

    [Fact]
    public async Task RunWithoutKeyPrefix_LinksNothing_AndHasNoWarnings()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = RepoWithFeatureBranch("SHOP-99: nothing to link");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/SHOP-1-cart", null)).Id);

        Assert.Equal("succeeded", run.Status);
        Assert.Empty(run.Warnings!);
    }

    [Fact]
    public async Task TitlesWithHtmlAndShellMetacharacters_AreStoredVerbatim_AndReturnedAsJsonText()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        const string title = "<script>alert('SHOP-1')</script> $(rm -rf ~) `id` ; | & \"quoted\" {{x}}";
        const string description = "<img src=x onerror=alert(1)>\n$HOME && echo 'hi' > /tmp/x";

        var created = await analyst.CreateWorkItemAsync("shop", title, description, "bug");
        using var http = Http(server, SlipwayTestServer.AdminToken);
        var response = await Expect(await http.GetAsync("/api/v1/projects/shop/items/1"), HttpStatusCode.OK);
        var shown = await ReadAsync<WorkItemDto>(response);

        Assert.Equal((title, description, "bug"), (created.Title, created.Description, created.Kind));
        Assert.Equal((title, description), (shown.Title, shown.Description));
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        // The web UI shows them as text: escaped, never as markup.
        foreach (var path in new[] { "/projects/shop/items", "/projects/shop/board", "/projects/shop/items/1" })
        {
            var page = await (await Expect(await http.GetAsync(path), HttpStatusCode.OK)).Content.ReadAsStringAsync();
            Assert.Contains("&lt;script&gt;alert(", page);
            Assert.DoesNotContain("<script>alert(", page);
            Assert.DoesNotContain("<img src=x", page);
        }
    }

    [Theory]
    [InlineData("""{"title":"a\u0007b"}""")]
    [InlineData("""{"title":"two\nlines"}""")]
    [InlineData("""{"title":""}""")]
    [InlineData("""{"title":"ok","kind":"epic"}""")]
    [InlineData("""{"title":"ok","description":"bell\u0007"}""")]
    public async Task BadItems_AreRefusedWith400(string body)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        using var admin = Admin(server);

        var response = await admin.PostAsync("/api/v1/projects/shop/items", Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await server.Client.ListWorkItemsAsync("shop"));
    }

    [Fact]
    public async Task Edit_ChangesOnlyGivenFields_AndIsAudited()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);
        await analyst.CreateWorkItemAsync("shop", "Cart total", "first", "feature");

        var edited = await analyst.UpdateWorkItemAsync("shop", 1, null, null, "bug");

        Assert.Equal(("Cart total", "first", "bug", "ann"), (edited.Title, edited.Description, edited.Kind, edited.UpdatedBy));
        var audit = await AuditAsync(server, "action=item.write&outcome=succeeded");
        Assert.Contains(audit, e => e.Actor == "ann" && (e.Detail ?? "").StartsWith("work item SHOP-1 edited (kind): Cart total"));
        var missing = await Assert.ThrowsAsync<SlipwayApiException>(() => analyst.UpdateWorkItemAsync("shop", 7, "x", null, null));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task KeyPrefix_IsValidated_UniqueAcrossProjects_AndFixedOnceItemsExist()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateProjectAsync("ops", repo.Path, "main");

        var noPrefix = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.CreateWorkItemAsync("shop", "x"));
        var invalid = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", "shop"));
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        var taken = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("ops", "SHOP"));
        await server.Client.SetItemKeyAsync("shop", "SHP");
        await server.Client.CreateWorkItemAsync("shop", "x");
        var fixedNow = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", "SHOP"));

        Assert.Equal(HttpStatusCode.Conflict, noPrefix.Status);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal(HttpStatusCode.Conflict, fixedNow.Status);
        Assert.Equal("SHP-1", (await server.Client.GetWorkItemAsync("shop", 1)).Key);
        Assert.Equal("SHP", (await server.Client.ListProjectsAsync()).Single(p => p.Name == "shop").ItemKeyPrefix);
    }

    [Fact]
    public async Task ConcurrentCreation_GivesNumbersOneToTwenty_WithoutGapsOrDuplicates()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        using var analyst = await ProjectWithKeyAsync(server, repo.Path);

        var created = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => analyst.CreateWorkItemAsync("shop", $"item {i}")));

        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), created.Select(i => i.Number).Order());
        Assert.Equal(20, (await server.Client.ListWorkItemsAsync("shop")).Select(i => i.Key).Distinct().Count());
    }
}
