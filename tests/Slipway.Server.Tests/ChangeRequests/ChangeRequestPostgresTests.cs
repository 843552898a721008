using Slipway.Contracts.Api;
using Slipway.Testing;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>Change requests on PostgreSQL: the migration, reviews, merge rules (a boolean column there), merging and the item's state.</summary>
[Collection("postgres")]
public sealed class ChangeRequestPostgresTests(PostgresFixture postgres)
{
    [Fact]
    public async Task OpenReviewMerge_OnPostgres()
    {
        var connection = await postgres.CreateDatabaseAsync();
        await using var kit = await ChangeRequestKit.StartAsync(o => o.Database = connection);
        await kit.Server.Client.SetMergeRulesAsync("shop", "main", 2, dismissStale: false);
        var rules = Assert.Single(await kit.Dev1.ListMergeRulesAsync("shop"));
        Assert.Equal((2, false, "admin"), (rules.RequiredApprovals, rules.DismissStaleApprovals, rules.UpdatedBy));

        var cr = await kit.GreenChangeRequestAsync("feature/SHOP-1-pg", "pg.txt", "Postgres SHOP-1");
        Assert.Equal("in_review", (await kit.Dev1.GetWorkItemAsync("shop", 1)).State);
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);
        var one = await kit.Dev2.GetChangeRequestAsync("shop", cr.Number);
        Assert.Contains(one.UnmetRules, u => u.Rule == "approvals" && u.Message.Contains("2 approvals"));
        await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), System.Net.HttpStatusCode.Conflict);

        await kit.Server.Client.ReviewChangeRequestAsync("shop", cr.Number, "approve", "admin approves too");
        var merged = await kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, "squash");
        Assert.Equal(("merged", "squash"), (merged.State, merged.MergeStrategy));
        Assert.Equal(merged.MergeCommit, kit.Git("rev-parse", "main"));
        Assert.Equal("merged", (await kit.Dev1.GetWorkItemAsync("shop", 1)).State);
        Assert.Equal(["merged"], (await kit.Dev1.ListChangeRequestsAsync("shop", "merged")).Select(c => c.State));
        Assert.Empty(await kit.Dev1.ListChangeRequestsAsync("shop", "open"));
    }
}
