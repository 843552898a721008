using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Server.Tests.ChangeRequests;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.Gates;

/// <summary>
/// Segregation of duties for sign-offs, with a real change request: whoever wrote or merged a change in the release may
/// not sign it off, even holding the analyst role; another analyst's rejection marks the work items the release carries.
/// </summary>
public sealed class SignOffDutiesTests
{
    [Fact]
    public async Task TheAuthorOfAChange_MayNotSignTheReleaseOff_AndARejectionMarksItsWorkItems()
    {
        await using var kit = await ChangeRequestKit.StartAsync(pipeline: ChangeRequestKit.Pipeline + "\ndeploy:\n  run: echo deployed\n");
        await kit.Server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await kit.Server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 1, false, "build", [], 0, null, false, null));
        await kit.Server.Client.AddGateAsync("shop", "production", new GateRequest("signoff", "staging", SignOffKind: "uat", Role: "analyst"));
        await GrantAsync(kit.Server, "dev1", BuiltInRoles.Analyst);
        using var ann = new SlipwayClient(kit.Server.Url, await UserWithRoleAsync(kit.Server, "ann", BuiltInRoles.Analyst));

        var cr = await kit.GreenChangeRequestAsync("feature/SHOP-1-total", "cart.txt", "SHOP-1 cart total");
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", "looks right");
        var merged = await kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null);
        var release = await DeploymentKitWait(kit, merged.MergeCommit!);
        await Deployments.DeploymentKit.WaitAsync(async () => (await kit.Server.Client.ListDeploymentsAsync("shop", "staging"))
            .FirstOrDefault(d => d.Release == release && d.State == "succeeded"), "the release on staging");
        // Signing off where the release never ran is refused.
        var nowhere = await Refused(() => ann.SignOffAsync("shop", release, new SignOffRequest("production", "uat", true, "looks fine")), HttpStatusCode.Conflict);
        Assert.Contains("has not been deployed to 'production'", nowhere.Message);

        var refused = await Refused(() => kit.Dev1.SignOffAsync("shop", release, new SignOffRequest("staging", "uat", true, "mine works")), HttpStatusCode.Forbidden);
        Assert.Contains("dev1 wrote or merged a change in " + release, refused.Message);
        Assert.Contains("signoff-not-author", refused.Message);
        Assert.Empty(await ann.ListSignOffsAsync("shop", release));

        await ann.SignOffAsync("shop", release, new SignOffRequest("staging", "uat", false, "the total ignores discounts"));
        var item = await ann.GetWorkItemAsync("shop", 1);
        var mark = Assert.Single(item.Timeline!, e => e.Kind == "signoff_rejected");
        Assert.Equal(("ann", $"uat of {release} on staging: the total ignores discounts"), (mark.Who, mark.Ref));
        var (exit, shown, _) = await EndToEnd.CliRunner.AdminAsync(kit.Server, null, ["item", "show", "shop", "1"]);
        Assert.Equal(0, exit);
        Assert.Contains($"sign-off rejected: uat of {release} on staging: the total ignores discounts", shown);
        var denied = (await kit.Server.Client.ListAuditAsync()).Where(e => e.Action == "release.signoff" && e.Outcome == "denied").ToList();
        Assert.Contains(denied, e => e.Actor == "dev1");
    }

    private static Task<string> DeploymentKitWait(ChangeRequestKit kit, string commit) =>
        Deployments.DeploymentKit.WaitAsync(async () => (await kit.Server.Client.ListReleasesAsync("shop")).FirstOrDefault(r => r.Commit == commit)?.Version, "release of the merge");
}
