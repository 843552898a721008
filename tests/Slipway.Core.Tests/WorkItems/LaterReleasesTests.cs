using Slipway.Core.WorkItems;

namespace Slipway.Core.Tests.WorkItems;

public sealed class LaterReleasesTests
{
    [Fact]
    public void TheFirstTenLaterReleases_AreTold_TheRestFolded_InReleaseOrder()
    {
        // Release 5 is the item's own; 1-4 are older (a rollback's target), never "later".
        var carrying = new long[] { 30, 5, 1, 7, 4 }.Concat(Enumerable.Range(8, 20).Select(i => (long)i)).Append(7);

        var (told, folded) = LaterReleases.Split(5, carrying);

        Assert.Equal([7, 8, 9, 10, 11, 12, 13, 14, 15, 16], told.Order());
        Assert.Equal([17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 30], folded);
    }

    [Fact]
    public void FewLaterReleases_AreAllTold()
    {
        var (told, folded) = LaterReleases.Split(5, [5, 6, 9]);

        Assert.Equal([6, 9], told.Order());
        Assert.Empty(folded);
    }
}
