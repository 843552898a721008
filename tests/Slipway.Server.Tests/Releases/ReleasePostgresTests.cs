using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Releases;

/// <summary>Releases on PostgreSQL: the migration, the automatic creation, the item timeline, and concurrent manual creation.</summary>
[Collection("postgres")]
public sealed class ReleasePostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task GreenRunOnMain_CreatesRelease_AndConcurrentManualCreationsOfOneRunGiveOneRelease()
    {
        var connection = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory();
        await using var server = await SlipwayTestServer.StartAsync(o => o.Database = connection, data.Path);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true", "release:\n  branch: main\n  version: \"3.{run}\""));
        repo.CreateBranch("feature/SHOP-1-x");
        repo.Checkout("feature/SHOP-1-x");
        repo.WriteFile("x.txt", "x");
        repo.Commit("SHOP-1: x");
        repo.Checkout("main");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        using var analyst = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst));
        await analyst.CreateWorkItemAsync("shop", "x");
        var feature = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/SHOP-1-x", null)).Id);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await server.Client.ListReleasesAsync("shop")).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);

        // The feature branch becomes a (protected) release branch after its run, so its run is released by hand only; the
        // settings round-trip through PostgreSQL.
        await server.Client.ProtectBranchAsync("shop", "feature/SHOP-1-x");
        await server.Client.SetReleaseBranchesAsync("shop", ["main", "feature/SHOP-1-x"], ["v*", "rel-*"]);
        var settings = await server.Client.GetReleaseBranchesAsync("shop");
        Assert.Equal(["main", "feature/SHOP-1-x"], settings.Branches);
        Assert.Equal(["v*", "rel-*"], settings.ProtectedTags);
        using var http = Admin(server);
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            http.PostAsync("/api/v1/projects/shop/releases", Body(new CreateReleaseRequest(feature.Id)))));
        var releases = await server.Client.ListReleasesAsync("shop");
        var item = await analyst.GetWorkItemAsync("shop", 1);

        Assert.Equal(["3.1"], releases.Where(r => r.CreatedBy is null).Select(r => r.Version));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        Assert.Equal(2, releases.Count);
        Assert.Equal("released", item.State);
        Assert.Equal(("release", $"3.{feature.Number}"), (item.Timeline!.Last().Kind, item.Timeline!.Last().Ref));
    }
}
