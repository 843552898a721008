using Slipway.Server.Hosting;

namespace Slipway.Server.Tests.Memory;

/// <summary>When the server gives its spare GC memory back (<see cref="IdleMemoryTrim"/>): the rule alone, no server.</summary>
public sealed class IdleMemoryTrimTests
{
    private const long MiB = 1024 * 1024;
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private static HeapLook Look(long allocated, int collections = 10, long committed = 20 * MiB, long heap = 8 * MiB) =>
        new(allocated, collections, committed, heap);

    [Fact]
    public void Quiet_WithSpareMemory_AndNeverTrimmed_Trims() =>
        Assert.True(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB + 64 * 1024), 0, null, T0));

    [Fact]
    public void Busy_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(101 * MiB), 0, null, T0));

    [Fact]
    public void LittleSpareMemory_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB, committed: 11 * MiB, heap: 8 * MiB), 0, null, T0));

    [Fact]
    public void NoCollectionSinceTheLastTrim_DoesNotTrim() =>
        Assert.False(IdleMemoryTrim.ShouldTrim(Look(100 * MiB), Look(100 * MiB, collections: 10), 10, T0.AddMinutes(-5), T0));

    [Fact]
    public void TrimmedShortlyBefore_WaitsForTheGap()
    {
        var before = Look(100 * MiB);
        var now = Look(100 * MiB, collections: 12);
        Assert.False(IdleMemoryTrim.ShouldTrim(before, now, 10, T0 - IdleMemoryTrim.MinGap + TimeSpan.FromSeconds(1), T0));
        Assert.True(IdleMemoryTrim.ShouldTrim(before, now, 10, T0 - IdleMemoryTrim.MinGap, T0));
    }
}
