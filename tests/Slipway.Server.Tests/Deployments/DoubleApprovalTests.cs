using System.Net;
using Slipway.Client;
using Slipway.Server.Tests.ChangeRequests;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>
/// An approval counts once and is stored once (issue 11, finding 7): the same user approving the same deployment, or the
/// same head commit of a change request, again is refused with 409 — also when both approvals race.
/// </summary>
public sealed class DoubleApprovalTests
{
    [Fact]
    public async Task ApprovingADeploymentTwice_IsRefused_AlsoWhenBothApprovalsRace()
    {
        await using var kit = await DeploymentKit.StartAsync(productionApprovals: 2);
        var first = await DeploymentKit.WaitAsync(async () => (await kit.Admin.ListReleasesAsync("shop")).FirstOrDefault(), "first release");
        await kit.OnStagingAsync(first.Version);
        var promotion = await kit.Ann.PromoteAsync("shop", "production");

        // Bob approves twice at once: one approval is stored, the other refused.
        var both = await Task.WhenAll(Attempt(() => kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, "one")),
            Attempt(() => kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, "two")));
        var again = await Refused(() => kit.Bob.ApproveDeploymentAsync("shop", promotion.Number, "three"), HttpStatusCode.Conflict);

        Assert.Equal(1, both.Count(e => e is null));
        Assert.Equal(HttpStatusCode.Conflict, Assert.Single(both, e => e is not null)!.Status);
        Assert.Equal($"bob has already approved deployment #{promotion.Number} ({first.Version} to production): an approval counts once, " +
                     "so the 2 required approvals need other approvers", again.Message);
        var now = await kit.Admin.GetDeploymentAsync("shop", promotion.Number);
        Assert.Equal("awaiting_approval", now.State);
        Assert.Single(now.Approvals, a => a.Approver == "bob");
    }

    [Fact]
    public async Task ApprovingTheSameHeadOfAChangeRequestTwice_IsRefused_ButANewHeadMayBeApprovedAgain()
    {
        await using var kit = await ChangeRequestKit.StartAsync();
        var cr = await kit.GreenChangeRequestAsync("feature/SHOP-1-cart", "cart.txt");

        var both = await Task.WhenAll(Attempt(() => kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null)),
            Attempt(() => kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null)));
        var again = await Refused(() => kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", "again"), HttpStatusCode.Conflict);

        Assert.Equal(1, both.Count(e => e is null));
        Assert.Contains($"dev2 has already approved change request #{cr.Number}", again.Message);
        Assert.Contains("an approval counts once", again.Message);
        // Comments are not approvals: they may come as often as wanted.
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "comment", "looks fine");
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "comment", "still fine");
        var head = await kit.CommitOnAsync("feature/SHOP-1-cart", "cart.txt", "v2\n", "Cart total, second take");
        await kit.WaitForCommitAsync(head);
        var reviewed = await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", "the new head");

        Assert.Equal(2, reviewed.Reviews.Count(r => r.Reviewer == "dev2" && r.Verdict == "approve"));
        Assert.Single(reviewed.Reviews, r => r.Verdict == "approve" && r.HeadSha == head);
    }

    /// <summary>The call's refusal, or null when it succeeded.</summary>
    private static async Task<SlipwayApiException?> Attempt(Func<Task> call)
    {
        try { await call(); return null; }
        catch (SlipwayApiException e) { return e; }
    }
}
