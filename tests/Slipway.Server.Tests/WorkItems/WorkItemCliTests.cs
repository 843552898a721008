using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.WorkItems;

/// <summary><c>slipway item</c> and <c>slipway project set-key</c> as a user types them, against a real server.</summary>
public sealed class WorkItemCliTests
{
    private static Task<(int Exit, string Out, string Err)> SlipwayAsync(SlipwayTestServer server, params string[] args) =>
        EndToEnd.CliRunner.AdminAsync(server, null, args);

    [Fact]
    public async Task ItemCreateListShowEdit_ThroughTheCli()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        repo.CreateBranch("feature/SHOP-1-cart");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var setKey = await SlipwayAsync(server, "project", "set-key", "shop", "SHOP");
        var create = await SlipwayAsync(server, "item", "create", "shop", "--title", "Cart <total> $(x)", "--kind", "bug");
        var noTitle = await SlipwayAsync(server, "item", "create", "shop");
        await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/SHOP-1-cart", null)).Id);
        var list = await SlipwayAsync(server, "item", "list", "shop", "--state", "in_development");
        var show = await SlipwayAsync(server, "item", "show", "shop", "SHOP-1"); // by its key, as people write it
        var otherKey = await SlipwayAsync(server, "item", "show", "shop", "BLOG-1");
        var notAnItem = await SlipwayAsync(server, "item", "show", "shop", "cart");
        var edit = await SlipwayAsync(server, "item", "edit", "shop", "1", "--title", "Cart total");
        var json = await SlipwayAsync(server, "item", "show", "shop", "1", "--json");

        Assert.True(setKey.Exit == 0, setKey.Err);
        Assert.True(create.Exit == 0, create.Err);
        Assert.Contains("created SHOP-1 (bug): Cart <total> $(x)", create.Out);
        Assert.Equal(2, noTitle.Exit);
        Assert.Contains("SHOP-1", list.Out);
        Assert.Contains("in_development", list.Out);
        Assert.Contains("branch feature/SHOP-1-cart", show.Out);
        Assert.Contains("run #2 (succeeded)", show.Out);
        Assert.Equal(1, otherKey.Exit);
        Assert.Contains("error: shop has no item BLOG-1: its items are SHOP-N (number 1 is SHOP-1)", otherKey.Err);
        Assert.Equal(2, notAnItem.Exit);
        Assert.Contains("error: 'cart' is not a work item: give its key (SHOP-42) or its number (42)", notAnItem.Err);
        Assert.True(edit.Exit == 0, edit.Err);
        var item = JsonSerializer.Deserialize<WorkItemDto>(json.Out, SlipwayClient.Json)!;
        Assert.Equal(("Cart total", "bug", "in_development"), (item.Title, item.Kind, item.State));
    }

    [Fact]
    public async Task ItemShow_TimelineColumnsLineUp_EvenWithALongBranchName()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        const string branch = "feature/SHOP-1-a-branch-name-longer-than-the-old-forty-character-column";
        repo.CreateBranch(branch);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        Assert.Equal(0, (await SlipwayAsync(server, "project", "set-key", "shop", "SHOP")).Exit);
        Assert.Equal(0, (await SlipwayAsync(server, "item", "create", "shop", "--title", "Cart total")).Exit);
        await server.Client.StartRunAsync("shop", branch, null); // links the branch to SHOP-1 (the run waits: no agent)

        var show = await SlipwayAsync(server, "item", "show", "shop", "1");

        Assert.True(show.Exit == 0, show.Err);
        var rows = EndToEnd.TableAssert.Aligned(show.Out, "WHEN (UTC)");
        Assert.Contains(rows, r => r.Contains($"branch {branch}  "));
        Assert.Contains(rows, r => r.Contains("created") && r.TrimEnd().EndsWith("admin"));
        // The lists are tables with headings too, whose columns a long branch name widens instead of pushing out of line.
        var runs = await SlipwayAsync(server, "run", "list", "shop");
        Assert.Contains(EndToEnd.TableAssert.Aligned(runs.Out, "ID"), r => r.Contains($"  {branch}  "));
        var items = await SlipwayAsync(server, "item", "list", "shop");
        Assert.Contains(EndToEnd.TableAssert.Aligned(items.Out, "ITEM"), r => r.StartsWith("SHOP-1  ") && r.EndsWith("Cart total"));
        var projects = await SlipwayAsync(server, "project", "list");
        Assert.Contains(EndToEnd.TableAssert.Aligned(projects.Out, "PROJECT"), r => r.StartsWith("shop  "));
    }

    [Fact]
    public async Task SetKeyPattern_ThroughTheCli_IsShown_BadOneRefused_AndResetToTheDefault()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var set = await SlipwayAsync(server, "project", "set-key", "shop", "SHOP", "--pattern", @"#(?<number>[0-9]+)\b");
        var bad = await SlipwayAsync(server, "project", "set-key", "shop", "--pattern", "SHOP-[0-9]+");
        var nothing = await SlipwayAsync(server, "project", "set-key", "shop");
        var reset = await SlipwayAsync(server, "project", "set-key", "shop", "--pattern", "");

        Assert.True(set.Exit == 0, set.Err);
        Assert.Contains("work items of project shop are keyed SHOP-N", set.Out);
        Assert.Contains(@"keys are found with the pattern #(?<number>[0-9]+)\b", set.Out);
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("must name what it finds", bad.Err);
        Assert.Equal(2, nothing.Exit);
        Assert.True(reset.Exit == 0, reset.Err);
        Assert.Contains("keys are found with the default pattern", reset.Out);
        Assert.Null((await server.Client.ListProjectsAsync()).Single().ItemKeyPattern);
    }
}
