using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.WorkItems;

/// <summary>A project's own work item key pattern: set through the API, checked on save, used when runs are linked.</summary>
public sealed class WorkItemKeyPatternTests
{
    private const string HashNumber = @"#(?<number>[0-9]+)\b";

    /// <summary>A repository whose branch <paramref name="branch"/> has one commit more than main, with <paramref name="message"/>.</summary>
    private static GitRepository RepoWithBranch(string branch, string message)
    {
        var repo = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        repo.CreateBranch(branch);
        repo.Checkout(branch);
        repo.WriteFile("cart.txt", "total");
        repo.Commit(message);
        repo.Checkout("main");
        return repo;
    }

    [Fact]
    public async Task CustomPattern_LinksBranchAndCommitByIt_NotByTheDefault_AndWarnsOnAnUnknownKey()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = RepoWithBranch("feature/#1-cart", "Cart total, closes #1; see #99; SHOP-2 is no key in this project");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using var analyst = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst));
        var key = await analyst.SetItemKeyAsync("shop", "SHOP", HashNumber);
        await analyst.CreateWorkItemAsync("shop", "Cart total");
        await analyst.CreateWorkItemAsync("shop", "Checkout");

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/#1-cart", null)).Id);

        Assert.Equal(("SHOP", HashNumber, false), (key.Prefix, key.Pattern, key.DefaultPattern));
        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["the commit message names work item SHOP-99, which does not exist"], run.Warnings);
        var item = await analyst.GetWorkItemAsync("shop", 1);
        Assert.Equal(["created", "branch", "commit", "run"], item.Timeline!.Select(e => e.Kind));
        Assert.Equal("feature/#1-cart", item.Timeline![1].Ref);
        Assert.Equal("requested", (await analyst.GetWorkItemAsync("shop", 2)).State); // SHOP-2 matches only the default pattern
        Assert.Equal(HashNumber, (await server.Client.ListProjectsAsync()).Single(p => p.Name == "shop").ItemKeyPattern);
        using var admin = Admin(server);
        var page = await (await Expect(await admin.GetAsync("/projects/shop"), HttpStatusCode.OK)).Content.ReadAsStringAsync();
        Assert.Contains($"<code>{System.Text.Encodings.Web.HtmlEncoder.Default.Encode(HashNumber)}</code>", page);
    }

    [Fact]
    public async Task Pattern_IsCheckedOnSave_NeedsItemWrite_IsAudited_AndCanGoBackToTheDefault()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        using var viewer = Http(server, await UserWithRoleAsync(server, "vic", BuiltInRoles.Viewer));

        var forbidden = await viewer.PutAsync("/api/v1/projects/shop/item-key", Body(new SetItemKeyRequest(null, HashNumber)));
        var invalid = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", null, "(?<key>SHOP-[0-9]+"));
        var noGroup = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", null, "SHOP-[0-9]+"));
        var hostile = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", null, "(?<key>(a+)+$)"));
        var empty = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetItemKeyAsync("shop", null, null));
        var set = await server.Client.SetItemKeyAsync("shop", null, HashNumber);
        var withPrefix = await server.Client.SetItemKeyAsync("shop", "SHOP");
        var reset = await server.Client.SetItemKeyAsync("shop", null, "");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Contains("not a valid regular expression", invalid.Message);
        Assert.Contains("must name what it finds", noGroup.Message);
        Assert.Contains("takes longer than", hostile.Message);
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);
        Assert.Equal((null, HashNumber, false), (set.Prefix, set.Pattern, set.DefaultPattern));
        Assert.Equal(("SHOP", HashNumber), (withPrefix.Prefix, withPrefix.Pattern)); // a prefix alone leaves the pattern
        Assert.Equal(("SHOP", true), (reset.Prefix, reset.DefaultPattern));
        Assert.Null((await server.Client.ListProjectsAsync()).Single().ItemKeyPattern);
        var audit = await AuditAsync(server, "action=item.write&outcome=succeeded");
        var details = audit.Select(e => e.Detail ?? "").ToList();
        Assert.Contains(details, d => d.StartsWith($"work item key pattern set to {HashNumber};"));
        Assert.Contains(details, d => d.StartsWith("work item key prefix set to SHOP;"));
        Assert.Contains(details, d => d.StartsWith("work item key pattern set to the default;"));
    }

    [Fact]
    public async Task PatternRunningOutOfTimeOnACommitMessage_WarnsOnTheRun_LinksWhatItFoundBefore_AndTheRunSucceeds()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        // Passes the save-time probes (no 'x' in them), but backtracks for ages on a run of x's without a 'y'.
        using var repo = RepoWithBranch("feature/cart", "SHOP-1: cart " + new string('x', 64) + " SHOP-2");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetItemKeyAsync("shop", "SHOP", "(?<key>[A-Z]+-[0-9]+)|(x+x+)+y");
        await server.Client.CreateWorkItemAsync("shop", "Cart total");
        await server.Client.CreateWorkItemAsync("shop", "Checkout");

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/cart", null)).Id);

        Assert.Equal("succeeded", run.Status);
        var warning = Assert.Single(run.Warnings!);
        Assert.StartsWith("looking for work item keys in the commit message took too long with the key pattern", warning);
        Assert.Equal("in_development", (await server.Client.GetWorkItemAsync("shop", 1)).State);
        Assert.Equal("requested", (await server.Client.GetWorkItemAsync("shop", 2)).State);
    }
}
