using Slipway.Server.Hosting;

namespace Slipway.Server.Tests.Memory;

/// <summary>When the server gives its spare GC memory back (<see cref="IdleMemoryTrim"/>): the rule alone, no server.</summary>
public sealed class IdleMemoryTrimTests
{
    private const long MiB = 1024 * 1024;
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Gap = IdleMemoryTrim.MinGap;

    private static HeapLook Look(long allocated, int collections = 10, long committed = 20 * MiB, long heap = 8 * MiB) =>
        new(allocated, collections, committed, heap);

    [Fact]
    public void QuietForTwoLooks_WithSpareMemory_AndNeverTrimmed_Trims() =>
        Assert.True(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB + 64 * 1024), Look(100 * MiB + 128 * 1024), 0, 0, null, Gap, T0));

    [Fact]
    public void BusyNow_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(99 * MiB), Look(100 * MiB), Look(101 * MiB), 0, 0, null, Gap, T0));

    [Fact]
    public void QuietForOneLookOnly_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(99 * MiB), Look(100 * MiB), Look(100 * MiB), 0, 0, null, Gap, T0));

    [Fact]
    public void LittleSpareMemory_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB), Look(100 * MiB, committed: 11 * MiB, heap: 8 * MiB), 0, 0, null, Gap, T0));

    [Fact]
    public void NoCollection_AndLittleAllocatedSinceTheLastTrim_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB), Look(100 * MiB, collections: 10), 10, 97 * MiB, T0.AddHours(-1), Gap, T0));

    [Fact]
    public void NoCollection_ButAWorthwhileAmountAllocatedSinceTheLastTrim_Trims()
    {
        // Idle allocation since the last trim sits in freshly touched memory until the GC's budget is spent: give it back.
        // The committed figure is as of the last collection (before the trim), so it is not what decides here.
        var quiet = Look(100 * MiB, collections: 10, committed: 9 * MiB, heap: 8 * MiB);
        Assert.True(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 100 * MiB - IdleMemoryTrim.MinSpareBytes, T0 - Gap, Gap, T0));
        Assert.False(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 100 * MiB - IdleMemoryTrim.MinSpareBytes + 1, T0 - Gap, Gap, T0));
        Assert.False(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 90 * MiB, T0 - Gap + TimeSpan.FromSeconds(1), Gap, T0)); // the gap still holds
    }

    [Fact]
    public void ACollectionSinceTheLastTrim_DecidesByTheSpareCommittedMemory_NotByWhatWasAllocated() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB), Look(100 * MiB, collections: 11, committed: 10 * MiB, heap: 8 * MiB), 10, 50 * MiB, null, Gap, T0));

    [Fact]
    public void TrimmedShortlyBefore_WaitsForTheGap()
    {
        var quiet = Look(100 * MiB, collections: 12);
        Assert.False(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 0, T0 - Gap + TimeSpan.FromSeconds(1), Gap, T0));
        Assert.True(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 0, T0 - Gap, Gap, T0));
        Assert.False(IdleMemoryTrim.ShouldTrim(quiet, quiet, quiet, 10, 0, T0 - Gap, Gap * 2, T0));
    }

    [Fact]
    public void TheGap_DoublesAfterTrimsThatGaveBackLittle_AndResetsAfterAWorthwhileOne()
    {
        Assert.Equal(Gap * 2, IdleMemoryTrim.NextGap(Gap, 1 * MiB));
        Assert.Equal(Gap, IdleMemoryTrim.NextGap(Gap * 4, IdleMemoryTrim.WorthwhileBytes));
        Assert.Equal(IdleMemoryTrim.MaxGap, IdleMemoryTrim.NextGap(IdleMemoryTrim.MaxGap, 0));
        Assert.Equal(Gap, IdleMemoryTrim.NextGap(Gap * 8, 12 * MiB));
    }
}
