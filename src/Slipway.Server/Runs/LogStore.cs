using System.Collections.Concurrent;
using System.Text;

namespace Slipway.Server.Runs;

/// <summary>The outcome of an append: the log's length after it, and whether the log is now truncated.</summary>
public sealed record AppendResult(long Length, bool Truncated);

/// <summary>
/// Job logs as append-only files (DATA/logs/JOBID.log), raw bytes exactly as the job printed them.
/// Memory stays bounded whatever the job prints: appends are streamed, reads are paged.
/// Past the limit the log gets one marker line and further bytes are dropped (the job runs on).
/// Thread-safe: appends to one job are serialised by a per-job lock.
/// </summary>
public sealed class LogStore(ServerOptions options)
{
    public const string TruncationMarker = "\n[slipway] log truncated: the job's output passed the log limit; the job continues and its status still comes from its exit code\n";
    private static readonly byte[] MarkerBytes = Encoding.UTF8.GetBytes(TruncationMarker);
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _locks = new();

    private string PathOf(long jobId) => Path.Combine(options.FullDataDirectory, "logs", jobId + ".log");
    private string MarkerPathOf(long jobId) => PathOf(jobId) + ".truncated";

    /// <summary>Drops the per-job lock once an attempt ended, so the lock table does not grow with every job ever run.</summary>
    public void Forget(long jobId) => _locks.TryRemove(jobId, out _);

    public long Length(long jobId)
    {
        var info = new FileInfo(PathOf(jobId));
        return info.Exists ? info.Length : 0;
    }

    public bool IsTruncated(long jobId) => File.Exists(MarkerPathOf(jobId));

    /// <summary>Appends the request body, up to the limit. <paramref name="body"/> is read in 64 KiB blocks.</summary>
    public async Task<AppendResult> AppendAsync(long jobId, Stream body, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(jobId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var path = PathOf(jobId);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var truncated = IsTruncated(jobId);
            await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1 << 16, useAsync: false);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                if (truncated) continue; // drain the request, keep nothing
                var room = options.LogLimitBytes - file.Length;
                if (read <= room) { file.Write(buffer, 0, read); continue; }
                if (room > 0) file.Write(buffer, 0, (int)room);
                file.Write(MarkerBytes);
                await File.WriteAllTextAsync(MarkerPathOf(jobId), "", ct);
                truncated = true;
            }
            return new AppendResult(file.Length, truncated);
        }
        finally { gate.Release(); }
    }

    /// <summary>Appends a line written by Slipway itself (retry markers, lease loss), ignoring the limit.</summary>
    public async Task AppendNoteAsync(long jobId, string note)
    {
        var path = PathOf(jobId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.AppendAllTextAsync(path, $"\n[slipway] {note}\n");
    }

    /// <summary>Reads at most <paramref name="max"/> bytes from <paramref name="offset"/>.</summary>
    public async Task<byte[]> ReadAsync(long jobId, long offset, int max, CancellationToken ct)
    {
        var path = PathOf(jobId);
        if (!File.Exists(path)) return [];
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        if (offset >= file.Length) return [];
        file.Position = offset;
        var buffer = new byte[(int)Math.Min(max, file.Length - offset)];
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await file.ReadAsync(buffer.AsMemory(total), ct);
            if (n == 0) break;
            total += n;
        }
        return total == buffer.Length ? buffer : buffer[..total];
    }

    /// <summary>Streams the whole log (for downloads) without loading it.</summary>
    public Stream? OpenRead(long jobId) =>
        File.Exists(PathOf(jobId)) ? new FileStream(PathOf(jobId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : null;
}
