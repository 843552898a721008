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
/// intervals, so no run, request or log is being handled), something grew back since the last trim, and the last trim
/// is at least the current gap ago. Grew back: a collection ran and left a worthwhile amount committed beyond the live
/// heap, or, with no collection at all, a worthwhile amount was allocated since the last trim. The second matters at
/// idle: heartbeats, leases and the embedded agent's polls allocate ~140 KiB/s, every byte of it fresh memory after a
/// trim, and the GC collects only when its 15-20 MiB allocation budget is spent, so without it an idle server's memory
/// climbed by ~18 MiB in two minutes between trims. The gap starts at <see cref="MinGap"/> and doubles (to
/// <see cref="MaxGap"/>) after a trim that gave back little, so a node whose heap is simply large does not pay a full
/// collection every half minute for nothing.
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

    /// <summary>A trim that gave back at least this much was worth it: the next may come after <see cref="MinGap"/> again.</summary>
    public const long WorthwhileBytes = 2 * 1024 * 1024;

    /// <param name="collectionsAtLastTrim">Collections counted right after the last trim (0 before any).</param>
    /// <param name="allocatedAtLastTrim">Bytes allocated by then (0 before any).</param>
    public static bool ShouldTrim(HeapLook earlier, HeapLook before, HeapLook now, int collectionsAtLastTrim, long allocatedAtLastTrim,
        DateTimeOffset? lastTrim, TimeSpan gap, DateTimeOffset at) =>
        before.AllocatedBytes - earlier.AllocatedBytes <= QuietAllocationBytes
        && now.AllocatedBytes - before.AllocatedBytes <= QuietAllocationBytes
        && (now.Collections > collectionsAtLastTrim
            ? now.CommittedBytes - now.HeapBytes >= MinSpareBytes
            : now.AllocatedBytes - allocatedAtLastTrim >= MinSpareBytes)
        && (lastTrim is null || at - lastTrim.Value >= gap);

    /// <summary>The gap before the next trim: back to <see cref="MinGap"/> after a worthwhile one, else twice the last.</summary>
    public static TimeSpan NextGap(TimeSpan gap, long freedBytes) =>
        freedBytes >= WorthwhileBytes ? MinGap : TimeSpan.FromTicks(Math.Min(gap.Ticks * 2, MaxGap.Ticks));
}
