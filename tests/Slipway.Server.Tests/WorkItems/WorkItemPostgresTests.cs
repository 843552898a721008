using Slipway.Client;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.WorkItems;

/// <summary>Work items on PostgreSQL, where writers really run concurrently (SQLite serialises them in-process).</summary>
[Collection("postgres")]
public sealed class WorkItemPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ConcurrentCreation_OnPostgreSql_GivesNumbersOneToTwenty_AndRunsLinkItems()
    {
        var connection = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory();
        await using var server = await SlipwayTestServer.StartAsync(o => o.Database = connection, data.Path);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        repo.CreateBranch("feature/SHOP-3-x");
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        using var analyst = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst));

        var created = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => analyst.CreateWorkItemAsync("shop", $"item {i}")));
        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "feature/SHOP-3-x", null)).Id);

        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), created.Select(i => i.Number).Order());
        Assert.Equal("succeeded", run.Status);
        Assert.Equal(["SHOP-3"], (await analyst.ListWorkItemsAsync("shop", "in_development")).Select(i => i.Key));
    }
}
