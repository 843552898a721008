using System.Net;
using Slipway.Server.Git;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>A merge whose push the origin refuses says why and what to do, not "the branch probably moved; try again" for every refusal.</summary>
public sealed class PushRefusalTests
{
    [Fact]
    public async Task MergingIntoANonBareRepositoryWithTheTargetCheckedOut_SaysSo_AndThatRetryingWillNotHelp()
    {
        await using var kit = await StartAsync();
        kit.Repo.Run("config", "receive.denyCurrentBranch", "refuse"); // git's default for a repository with a work tree
        var cr = await kit.GreenChangeRequestAsync("feature/x", "x.txt");
        await kit.Dev2.ReviewChangeRequestAsync("shop", cr.Number, "approve", null);

        var refused = await Refused(() => kit.Dev1.MergeChangeRequestAsync("shop", cr.Number, null), HttpStatusCode.Conflict);

        Assert.Contains("was refused, so nothing was merged (the origin is a repository with a work tree that has 'main' checked out, and git " +
                        "refuses pushes into it; use a bare repository (git clone --bare) or set receive.denyCurrentBranch=updateInstead in it; " +
                        "retrying will not help)", refused.Message);
        Assert.Equal("open", (await kit.Dev1.GetChangeRequestAsync("shop", cr.Number)).State);
    }

    [Theory]
    [InlineData(" ! [rejected]        main -> main (fetch first)", "'main' moved at the origin meanwhile; try again")]
    [InlineData(" ! [rejected]        main -> main (non-fast-forward)", "'main' moved at the origin meanwhile; try again")]
    [InlineData(" ! [remote rejected] main -> main (pre-receive hook declined)", "the origin's own rules refuse pushes to 'main'")]
    [InlineData("remote: Permission to o/r.git denied to bot. fatal: unable to access: The requested URL returned error: 403", "the origin refused Slipway's credential")]
    [InlineData("fatal: the remote end hung up unexpectedly", "the origin refused it")]
    public void OtherRefusals_AreExplained(string gitError, string expected) => Assert.StartsWith(expected, PushRefusal.Explain(gitError, "main"));
}
