using System.Data.Common;
using System.Text;
using Dapper;

namespace Slipway.Server.Runs;

/// <summary>The outcome of an append: the log's length after it, whether it is now truncated, and the bytes received.</summary>
public sealed record AppendResult(long Length, bool Truncated, long Received = 0);

/// <summary>A job log's size and where its bytes are: [0, ArchivedLength) in the blob ArchiveKey, the rest in chunks.</summary>
public sealed record LogState(long Length, bool Truncated, long ArchivedLength, string? ArchiveKey);

/// <summary>
/// Job logs, raw bytes exactly as the job printed them, kept where every server node sees them (issue 15): appended to
/// the database in chunks while the job runs (table log_chunks; the length and truncation in job_logs), and archived
/// as one blob once the job has ended (<see cref="LogArchiver"/>). A read takes the archived part from the blob store
/// and the rest from the chunks, so it does not matter which node wrote the bytes or whether they were archived yet.
/// Memory stays bounded whatever the job prints: appends go in blocks, reads are paged.
/// Past the limit the log gets one marker line and further bytes are dropped (the job runs on).
/// </summary>
public sealed class LogStore(SqlDatabase database, IBlobStore blobs, ServerOptions options, TimeProvider clock)
{
    public const string TruncationMarker = "\n[slipway] log truncated: the job's output passed the log limit; the job continues and its status still comes from its exit code\n";
    private static readonly byte[] MarkerBytes = Encoding.UTF8.GetBytes(TruncationMarker);

    /// <summary>The most bytes one chunk row holds: an agent's batch is usually far smaller.</summary>
    private const int ChunkBytes = 256 * 1024;

    // Jobs known to have their job_logs row (so an append skips the look for a log from before the chunks). Only a
    // shortcut: a job missing here costs one more query.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, byte> _rowKnown = new();

    /// <summary>Drops what this node remembers of a job once its attempt ended, so the table does not grow with every job.</summary>
    public void Forget(long jobId) => _rowKnown.TryRemove(jobId, out _);

    public async Task<LogState> StateAsync(long jobId, CancellationToken ct = default) =>
        await database.ReadAsync(c => RowAsync(c, null, jobId)) ?? await LegacyStateAsync(jobId, ct);

    public async Task<long> LengthAsync(long jobId) => (await StateAsync(jobId)).Length;

    /// <summary>Appends the request body, up to the limit, in blocks of at most <see cref="ChunkBytes"/>.</summary>
    public async Task<AppendResult> AppendAsync(long jobId, Stream body, CancellationToken ct)
    {
        // Every agent's log post comes through here: the block buffer is pooled, not allocated per post.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            AppendResult? result = null;
            long received = 0;
            while (true)
            {
                var filled = 0;
                int read;
                while (filled < ChunkBytes && (read = await body.ReadAsync(buffer.AsMemory(filled, ChunkBytes - filled), ct)) > 0) filled += read;
                if (filled == 0) break;
                received += filled;
                result = await AppendBlockAsync(jobId, buffer.AsMemory(0, filled), respectLimit: true, ct);
            }
            return (result ?? await CurrentAsync(jobId, ct)) with { Received = received };
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Appends a line written by Slipway itself (retry markers, lease loss, metrics), ignoring the limit.</summary>
    public Task AppendNoteAsync(long jobId, string note) =>
        AppendBlockAsync(jobId, Encoding.UTF8.GetBytes($"\n[slipway] {note}\n"), respectLimit: false, CancellationToken.None);

    private async Task<AppendResult> CurrentAsync(long jobId, CancellationToken ct)
    {
        var state = await StateAsync(jobId, ct);
        return new AppendResult(state.Length, state.Truncated);
    }

    private async Task<AppendResult> AppendBlockAsync(long jobId, ReadOnlyMemory<byte> block, bool respectLimit, CancellationToken ct)
    {
        // A log from before the chunks (no row yet) goes on from its old file: the row starts as that file, archived.
        var legacy = !_rowKnown.ContainsKey(jobId) && await database.ReadAsync(c => RowAsync(c, null, jobId)) is null ? await LegacyStateAsync(jobId, ct) : null;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var appended = await database.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                """
                INSERT INTO job_logs (job_id, length, archived_length, archive_key, updated_at) VALUES (@jobId, @length, @length, @key, @now)
                ON CONFLICT (job_id) DO NOTHING
                """, new { jobId, length = legacy?.Length ?? 0, key = legacy?.ArchiveKey, now }, tx);
            var state = (await RowAsync(c, tx, jobId, forUpdate: true))!;
            if (respectLimit && state.Truncated) return new AppendResult(state.Length, true); // drain the request, keep nothing
            var truncated = state.Truncated;
            var keep = block;
            if (respectLimit && state.Length + block.Length > options.LogLimitBytes)
            {
                var room = (int)Math.Max(0, options.LogLimitBytes - state.Length);
                keep = Concat(block[..room], MarkerBytes);
                truncated = true;
            }
            await c.ExecuteAsync("INSERT INTO log_chunks (job_id, start_offset, data) VALUES (@jobId, @offset, @data)",
                new { jobId, offset = state.Length, data = keep.ToArray() }, tx);
            var length = state.Length + keep.Length;
            await c.ExecuteAsync("UPDATE job_logs SET length = @length, truncated = @truncated, updated_at = @now WHERE job_id = @jobId",
                new { jobId, length, truncated = truncated ? 1 : 0, now }, tx);
            return new AppendResult(length, truncated);
        }, ct);
        if (_rowKnown.Count > 100_000) _rowKnown.Clear();
        _rowKnown[jobId] = 0;
        return appended;
    }

    /// <summary>Reads at most <paramref name="max"/> bytes from <paramref name="offset"/>.</summary>
    public Task<byte[]> ReadAsync(long jobId, long offset, int max, CancellationToken ct) => ReadAsync(jobId, null, offset, max, ct);

    /// <summary>The same, starting from a <paramref name="known"/> state the caller has just read (a log page needs it too).</summary>
    public async Task<byte[]> ReadAsync(long jobId, LogState? known, long offset, int max, CancellationToken ct)
    {
        // The archiver may move chunks into the blob between reading the state and reading the chunks: then the read
        // comes up short and is simply done again from the new state.
        for (var attempt = 0; ; attempt++)
        {
            var state = attempt == 0 && known is not null ? known : await StateAsync(jobId, ct);
            if (offset >= state.Length) return [];
            var end = Math.Min(state.Length, offset + max);
            var output = new MemoryStream((int)(end - offset));
            var whole = offset >= state.ArchivedLength
                        || await CopyArchivedAsync(state, offset, Math.Min(end, state.ArchivedLength), output, ct);
            // Chunks only after a whole archived part: what is returned is always the log's bytes from offset, without holes.
            if (whole && end > state.ArchivedLength)
                await CopyChunksAsync(jobId, Math.Max(offset, state.ArchivedLength), end, output, ct);
            if (output.Length == end - offset || attempt == 2) return output.ToArray();
        }
    }

    /// <summary>Streams the whole log (downloads, a target's lines) without loading it: the archived part, then the chunks in pages.</summary>
    public async Task<Stream> OpenReadAsync(long jobId, CancellationToken ct)
    {
        var state = await StateAsync(jobId, ct);
        return new LogReadStream(this, jobId, state.Length);
    }

    /// <summary>Copies [from, to) of the archive; false when the blob is missing or shorter (replaced meanwhile, or lost).</summary>
    private async Task<bool> CopyArchivedAsync(LogState state, long from, long to, Stream output, CancellationToken ct)
    {
        await using var blob = await blobs.OpenReadAsync(state.ArchiveKey!, from, to - from, ct);
        if (blob is null) return false;
        var before = output.Length;
        await blob.CopyToAsync(output, ct);
        return output.Length - before == to - from;
    }

    private async Task CopyChunksAsync(long jobId, long from, long to, Stream output, CancellationToken ct)
    {
        var chunks = await database.ReadAsync(c => c.QueryAsync<(long StartOffset, byte[] Data)>(
            """
            SELECT start_offset, data FROM log_chunks
            WHERE job_id = @jobId AND start_offset < @to
              AND start_offset >= COALESCE((SELECT MAX(start_offset) FROM log_chunks WHERE job_id = @jobId AND start_offset <= @from), 0)
            ORDER BY start_offset
            """, new { jobId, from, to }));
        var position = from;
        foreach (var (start, data) in chunks)
        {
            if (start > position) return; // a gap: archived meanwhile; the caller reads again
            var skip = (int)(position - start);
            var take = (int)Math.Min(data.Length - skip, to - position);
            if (take <= 0) continue;
            await output.WriteAsync(data.AsMemory(skip, take), ct);
            position += take;
        }
    }

    /// <summary>
    /// Moves a job's chunks into one blob: what was archived before plus the chunks, written to a new key of its own;
    /// then the row points at it and the chunks go, in one transaction that only succeeds if nobody archived meanwhile
    /// (two archivers never lose bytes: the loser's blob is deleted). Returns the bytes now archived.
    /// </summary>
    public async Task<long> ArchiveAsync(long jobId, CancellationToken ct)
    {
        var state = await StateAsync(jobId, ct);
        if (state.Length == state.ArchivedLength) return state.ArchivedLength;
        var temp = Path.Combine(options.FullDataDirectory, "tmp", $"log-{jobId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.GetDirectoryName(temp)!);
        var key = BlobKeys.Log(jobId, state.Length, Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                if (state.ArchivedLength > 0 && !await CopyArchivedAsync(state, 0, state.ArchivedLength, file, ct))
                {
                    if ((await StateAsync(jobId, ct)).ArchivedLength != state.ArchivedLength) return state.ArchivedLength; // replaced meanwhile
                    throw new InvalidDataException($"the archived log of job {jobId} ({state.ArchiveKey}) is missing or short in the blob store");
                }
                for (var from = state.ArchivedLength; from < state.Length;)
                {
                    var before = file.Length;
                    await CopyChunksAsync(jobId, from, Math.Min(state.Length, from + 4 * ChunkBytes), file, ct);
                    if (file.Length == before) break;
                    from += file.Length - before;
                }
                if (file.Length != state.Length) return state.ArchivedLength; // archived by someone else meanwhile
            }
            await blobs.PutFileAsync(key, temp, ct);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
        bool moved;
        try { moved = await PointAtArchiveAsync(jobId, state, key, ct); }
        catch
        {
            await blobs.DeleteAsync(key, CancellationToken.None); // referenced by nothing
            throw;
        }
        // The winner's old blob, or the loser's new one, is no longer referenced (each archive has a key of its own).
        if ((moved ? state.ArchiveKey : key) is { } stale) await blobs.DeleteAsync(stale, ct);
        return moved ? state.Length : state.ArchivedLength;
    }

    /// <summary>The row points at the new archive and the chunks it holds go, unless someone archived since <paramref name="state"/>.</summary>
    private Task<bool> PointAtArchiveAsync(long jobId, LogState state, string key, CancellationToken ct) =>
        database.WriteAsync(async (c, tx) =>
        {
            var updated = await c.ExecuteAsync(
                "UPDATE job_logs SET archived_length = @length, archive_key = @key WHERE job_id = @jobId AND archived_length = @old",
                new { jobId, length = state.Length, key, old = state.ArchivedLength }, tx);
            if (updated == 0) return false;
            await c.ExecuteAsync("DELETE FROM log_chunks WHERE job_id = @jobId AND start_offset < @length", new { jobId, length = state.Length }, tx);
            return true;
        }, ct);

    /// <summary>Jobs whose log has chunks to archive: the job has ended and nothing was appended for <paramref name="quiet"/>.</summary>
    public Task<IReadOnlyList<long>> ArchivableAsync(TimeSpan quiet, int max) => database.ReadAsync<IReadOnlyList<long>>(async c =>
        (await c.QueryAsync<long>(
            """
            SELECT l.job_id FROM job_logs l JOIN jobs j ON j.id = l.job_id
            WHERE l.length > l.archived_length AND l.updated_at < @before
              AND j.status IN ('succeeded', 'failed', 'cancelled', 'skipped')
            ORDER BY l.updated_at LIMIT @max
            """, new { before = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)quiet.TotalMilliseconds, max })).AsList());

    /// <summary>Puts a log whose archiving failed behind the others (<see cref="ArchivableAsync"/> takes the oldest first).</summary>
    public Task PostponeArchiveAsync(long jobId) => database.WriteAsync((c, tx) =>
        c.ExecuteAsync("UPDATE job_logs SET updated_at = @now WHERE job_id = @jobId", new { jobId, now = clock.GetUtcNow().ToUnixTimeMilliseconds() }, tx));

    private async Task<LogState?> RowAsync(DbConnection c, DbTransaction? tx, long jobId, bool forUpdate = false)
    {
        var lockClause = forUpdate && database.Dialect == SqlDialect.Postgres ? " FOR UPDATE" : "";
        var row = await c.QuerySingleOrDefaultAsync<(long Length, long Truncated, long ArchivedLength, string? ArchiveKey)?>(
            "SELECT length, truncated, archived_length, archive_key FROM job_logs WHERE job_id = @jobId" + lockClause, new { jobId }, tx);
        return row is { } r ? new LogState(r.Length, r.Truncated != 0, r.ArchivedLength, r.ArchiveKey) : null;
    }

    /// <summary>A log written before job_logs existed: the file logs/JOBID.log, if any, all of it archived.</summary>
    private async Task<LogState> LegacyStateAsync(long jobId, CancellationToken ct)
    {
        var key = BlobKeys.LegacyLog(jobId);
        return await blobs.SizeAsync(key, ct) is { } size ? new LogState(size, false, size, key) : new LogState(0, false, 0, null);
    }

    private static ReadOnlyMemory<byte> Concat(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b)
    {
        var all = new byte[a.Length + b.Length];
        a.CopyTo(all);
        b.CopyTo(all.AsMemory(a.Length));
        return all;
    }

    /// <summary>The whole log as a forward-only stream, read page by page through <see cref="ReadAsync"/>.</summary>
    private sealed class LogReadStream(LogStore store, long jobId, long length) : ReadOnlyStream
    {
        private long _position;
        private byte[] _page = [];
        private int _pageOffset;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_pageOffset == _page.Length)
            {
                if (_position >= length) return 0;
                _page = await store.ReadAsync(jobId, _position, (int)Math.Min(ChunkBytes * 4, length - _position), ct);
                _pageOffset = 0;
                if (_page.Length == 0) return 0;
                _position += _page.Length;
            }
            var n = Math.Min(buffer.Length, _page.Length - _pageOffset);
            _page.AsMemory(_pageOffset, n).CopyTo(buffer);
            _pageOffset += n;
            return n;
        }

        // Readers of a log (downloads, a target's lines) read asynchronously; a synchronous read blocks on the same path.
        public override int Read(Span<byte> buffer)
        {
            var rented = new byte[buffer.Length];
            var n = ReadAsync(rented).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }

        public override long Length => length;
    }
}
