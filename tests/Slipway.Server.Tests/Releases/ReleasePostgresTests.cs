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

    [Fact]
    public async Task ReleasesMadeAtOnce_EachSeesTheOthers_SoEveryParentIsTheNearestEarlierOne()
    {
        // Two nodes on one database: the releases are asked for through both, so only the lock they share can order them.
        var connection = await postgres.CreateDatabaseAsync();
        await using var server = await Nodes.NodeKit.StartAsync("release-a", connection, agent: true);
        await using var other = await Nodes.NodeKit.StartAsync("release-b", connection);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true", "release:\n  branch: main\n  version: \"4.{run}\""));
        // Four green runs on one line of commits, built before the branch is a release branch, then released all at once.
        repo.CreateBranch("line");
        repo.Checkout("line");
        var commits = new List<string>();
        for (var i = 1; i <= 4; i++)
        {
            repo.WriteFile($"f{i}.txt", $"{i}");
            commits.Add(repo.Commit($"step {i}"));
        }
        repo.Checkout("main");
        await server.Client.CreateProjectAsync("line", repo.Path, "main");
        await Eventually.ValueAsync(async () => (await server.Client.ListReleasesAsync("line")).Count == 1 ? "" : null,
            TimeSpan.FromSeconds(30), "main's first run to be released");
        var runs = new List<long>();
        foreach (var commit in commits)
            runs.Add((await server.WaitForRunAsync((await server.Client.StartRunAsync("line", "line", commit)).Id)).Id);
        await server.Client.ProtectBranchAsync("line", "line");
        await server.Client.SetReleaseBranchesAsync("line", ["main", "line"], []);
        using var viaA = Admin(server);
        using var viaB = Admin(other);
        var answers = await Task.WhenAll(runs.Select((run, i) =>
            (i % 2 == 0 ? viaA : viaB).PostAsync("/api/v1/projects/line/releases", Body(new CreateReleaseRequest(run)))));

        var db = server.Service<SqlDatabase>();
        var made = await db.ReadAsync(async c => (await Dapper.SqlMapper.QueryAsync<(long Id, string Commit, long Known)>(c,
            "SELECT id, commit_sha, parents_known FROM releases ORDER BY id")).ToList());
        var parents = await db.ReadAsync(async c => (await Dapper.SqlMapper.QueryAsync<(long Release, long Parent)>(c,
            "SELECT release_id, parent_id FROM release_parents")).ToList());

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        Assert.Equal(5, made.Count); // main's first release, then the four in whatever order they got the lock
        Assert.All(made, r => Assert.Equal(1, r.Known));
        // Each release must have seen every release made before it: its recorded parents are what the lineage rule gives
        // over all of them (commits on one line: main's first, then step 1..4, so "ancestor" is "earlier on the line").
        var order = new List<string> { made[0].Commit };
        order.AddRange(commits);
        var parentsOf = made.ToDictionary(r => r.Id, r => (IReadOnlyList<long>)parents.Where(p => p.Release == r.Id).Select(p => p.Parent).Order().ToList());
        for (var k = 1; k < made.Count; k++)
        {
            var position = order.IndexOf(made[k].Commit);
            var expected = await Core.Releases.ReleaseLineage.ParentsAsync(
                made.Take(k).Select(r => new Core.Releases.LineageRelease(r.Id, parentsOf[r.Id])).ToList(),
                id => Task.FromResult(order.IndexOf(made.Single(r => r.Id == id).Commit) < position));
            Assert.Equal(expected!.Order(), parentsOf[made[k].Id]);
        }
        Assert.Empty(parentsOf[made[0].Id]);
    }
}
