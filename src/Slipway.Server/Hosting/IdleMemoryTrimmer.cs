using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Slipway.Server.Hosting;

/// <summary>
/// Gives the GC's spare memory back to the OS when the server goes quiet (issue 12). After start-up, and after a burst
/// of runs, the GC keeps what it committed for the garbage of that work (12 MiB after start-up, more after a burst).
/// It would reuse it under the next load, but an idle server holding it looks, and is, 10-40 MiB bigger than it needs to be.
/// One aggressive full collection when nothing is happening returns it; see <see cref="IdleMemoryTrim"/> for when.
/// Runs on every node; a look every <see cref="ServerOptions.IdleTrimCheckInterval"/>; off with SLIPWAY_IDLE_TRIM=off.
/// </summary>
public sealed class IdleMemoryTrimmer(ServerOptions options, SlipwayMetrics metrics, ILogger<IdleMemoryTrimmer> log, TimeProvider clock) : PeriodicWorker(log, clock)
{
    private HeapLook? _earlier, _last;
    private DateTimeOffset? _lastTrim;
    private TimeSpan _gap = IdleMemoryTrim.MinGap;
    private int _collectionsAtLastTrim;
    private long _allocatedAtLastTrim;

    protected override TimeSpan Interval => options.IdleTrimCheckInterval;
    protected override string Name => "idle memory trim";

    protected override Task PassAsync(CancellationToken ct)
    {
        var now = Look();
        var at = Clock.GetUtcNow();
        if (_earlier is { } earlier && _last is { } before && IdleMemoryTrim.ShouldTrim(earlier, before, now, _collectionsAtLastTrim, _allocatedAtLastTrim, _lastTrim, _gap, at))
        {
            var prior = now;
            var residentBefore = Environment.WorkingSet;
            var started = Stopwatch.GetTimestamp();
            // Aggressive: compacts everything and decommits all the GC can, including the space kept for new allocations.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            NativeHeap.Trim();
            _lastTrim = at;
            now = Look();
            _collectionsAtLastTrim = now.Collections;
            _allocatedAtLastTrim = now.AllocatedBytes;
            // What the OS got back: the GC's committed figure is as of the last collection, so memory touched by allocations
            // since then shows only in the resident set; the larger of the two drops.
            var freed = Math.Max(0, Math.Max(prior.CommittedBytes - now.CommittedBytes, residentBefore - Environment.WorkingSet));
            _gap = IdleMemoryTrim.NextGap(_gap, freed);
            metrics.IdleTrims.Inc();
            metrics.IdleTrimmedBytes.Inc(freed);
            log.LogDebug("Idle: gave back {Freed:F1} MiB of GC memory in {Ms:F1} ms (heap {Heap:F1} MiB, committed {Committed:F1} MiB)",
                freed / 1048576.0, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                now.HeapBytes / 1048576.0, now.CommittedBytes / 1048576.0);
        }
        (_earlier, _last) = (_last, now);
        return Task.CompletedTask;
    }

    private static HeapLook Look()
    {
        var info = GC.GetGCMemoryInfo();
        return new HeapLook(GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), info.TotalCommittedBytes, info.HeapSizeBytes);
    }
}

/// <summary>
/// The C library's heap: the runtime (JIT, type loader), SQLite and OpenSSL allocate with malloc, and glibc keeps what
/// they free in per-thread arenas instead of giving it back (an idle server's arenas held ~23 MiB after a few minutes,
/// more than its GC heap). malloc_trim returns the free pages of every arena to the OS. A C library without it (musl)
/// is simply not trimmed.
/// </summary>
internal static class NativeHeap
{
    private static bool _unavailable;

    public static void Trim()
    {
        if (_unavailable || !OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { _unavailable = true; }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
