namespace Slipway.Server.Hosting;

/// <summary>What the trimmer reads of the managed heap at one look (<see cref="IdleMemoryTrimmer"/>).</summary>
/// <param name="AllocatedBytes">Bytes allocated since the process started (<see cref="GC.GetTotalAllocatedBytes"/>).</param>
/// <param name="Collections">Garbage collections so far (gen 0 counts every one).</param>
/// <param name="CommittedBytes">Memory the GC holds from the OS, as of the last collection.</param>
/// <param name="HeapBytes">Live heap after the last collection.</param>
public readonly record struct HeapLook(long AllocatedBytes, int Collections, long CommittedBytes, long HeapBytes);

/// <summary>
/// When to give the garbage collector's spare memory back to the OS (issue 12). Pure: the worker feeds it its last
/// three looks, one interval apart. The rule: the server is quiet (it allocated almost nothing over the last two
/// intervals, so no run, request or log is being handled), the GC holds a worthwhile amount beyond the live heap, some
/// collection ran since the last trim (else nothing grew back), and the last trim is at least the current gap ago. The
/// gap starts at <see cref="MinGap"/> and doubles (to <see cref="MaxGap"/>) after a trim that gave back little, so a
/// node whose heap is simply large does not pay a full collection every half minute for nothing.
/// </summary>
public static class IdleMemoryTrim
{
    /// <summary>Allocation between two looks that still counts as quiet: heartbeats and lease renewals allocate a little.</summary>
    public const long QuietAllocationBytes = 512 * 1024;

    /// <summary>Spare committed memory below which a trim is not worth a full collection.</summary>
    public const long MinSpareBytes = 4 * 1024 * 1024;

    /// <summary>The shortest time between two trims: a full compacting collection of a small heap takes a few ms.</summary>
    public static readonly TimeSpan MinGap = TimeSpan.FromSeconds(30);

    /// <summary>The longest the gap grows to after trims that gave back little.</summary>
    public static readonly TimeSpan MaxGap = TimeSpan.FromMinutes(16);

    public static bool ShouldTrim(HeapLook earlier, HeapLook before, HeapLook now, int collectionsAtLastTrim, DateTimeOffset? lastTrim, TimeSpan gap, DateTimeOffset at) =>
        before.AllocatedBytes - earlier.AllocatedBytes <= QuietAllocationBytes
        && now.AllocatedBytes - before.AllocatedBytes <= QuietAllocationBytes
        && now.CommittedBytes - now.HeapBytes >= MinSpareBytes
        && now.Collections > collectionsAtLastTrim
        && (lastTrim is null || at - lastTrim.Value >= gap);

    /// <summary>The gap before the next trim: back to <see cref="MinGap"/> after a worthwhile one, else twice the last.</summary>
    public static TimeSpan NextGap(TimeSpan gap, long freedBytes) =>
        freedBytes >= MinSpareBytes ? MinGap : TimeSpan.FromTicks(Math.Min(gap.Ticks * 2, MaxGap.Ticks));
}
