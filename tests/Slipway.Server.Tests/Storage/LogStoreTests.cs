using System.Text;
using Dapper;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>
/// Job logs in database chunks and archived blobs, on a real SQLite file and a real PostgreSQL: what is read is what was
/// written, whichever store instance ("node") wrote it and whether it was archived yet.
/// </summary>
[Collection("postgres")]
public sealed class LogStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private (LogStore Logs, LocalBlobStore Blobs, ServerOptions Options) Node(SqlDatabase db, long limit = 1 << 20)
    {
        var options = new ServerOptions { DataDirectory = _dir.Path, LogLimitBytes = limit };
        var blobs = new LocalBlobStore(Path.Combine(_dir.Path, "blobs"));
        return (new LogStore(db, blobs, options, TimeProvider.System), blobs, options);
    }

    private static Task<AppendResult> AppendAsync(LogStore logs, long job, string text) =>
        logs.AppendAsync(job, new MemoryStream(Encoding.UTF8.GetBytes(text)), CancellationToken.None);

    private static async Task<string> AllAsync(LogStore logs, long job)
    {
        await using var stream = await logs.OpenReadAsync(job, CancellationToken.None);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    private static async Task<string> PagedAsync(LogStore logs, long job, int page)
    {
        var text = new StringBuilder();
        for (long offset = 0; ;)
        {
            var bytes = await logs.ReadAsync(job, offset, page, CancellationToken.None);
            if (bytes.Length == 0) return text.ToString();
            text.Append(Encoding.UTF8.GetString(bytes));
            offset += bytes.Length;
        }
    }

    private static Task<long> ChunkCountAsync(SqlDatabase db, long job) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM log_chunks WHERE job_id = @job", new { job }));

    [Theory, MemberData(nameof(Dialects))]
    public async Task Appends_ReadBackWhole_InAnyPageSize_BeforeAndAfterArchiving(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (logs, _, _) = Node(db);
        var expected = new StringBuilder();
        for (var i = 0; i < 40; i++)
        {
            var line = $"line {i} {new string('x', i * 7)}\n";
            expected.Append(line);
            var result = await AppendAsync(logs, 7, line);
            Assert.Equal(expected.Length, result.Length);
        }
        Assert.Equal(expected.ToString(), await AllAsync(logs, 7));
        Assert.Equal(expected.ToString(), await PagedAsync(logs, 7, 13)); // pages cut across chunks
        Assert.Equal(40, await ChunkCountAsync(db, 7));

        Assert.Equal(expected.Length, await logs.ArchiveAsync(7, CancellationToken.None));
        Assert.Equal(0, await ChunkCountAsync(db, 7));
        Assert.Equal(expected.ToString(), await AllAsync(logs, 7));
        Assert.Equal(expected.ToString(), await PagedAsync(logs, 7, 13));

        // A retry's note after archiving: the archived part plus new chunks, then archived again into one new blob.
        await logs.AppendNoteAsync(7, "retrying: agent lost");
        expected.Append("\n[slipway] retrying: agent lost\n");
        Assert.Equal(expected.ToString(), await PagedAsync(logs, 7, 50));
        var first = (await logs.StateAsync(7)).ArchiveKey!;
        await logs.ArchiveAsync(7, CancellationToken.None);
        var state = await logs.StateAsync(7);
        Assert.NotEqual(first, state.ArchiveKey);
        Assert.Equal(expected.Length, state.ArchivedLength);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "blobs", first)), "the replaced archive is deleted");
        Assert.Equal(expected.ToString(), await AllAsync(logs, 7));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task PastTheLimit_OneMarker_ThenNothingButNotes(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (logs, _, _) = Node(db, limit: 100);
        await AppendAsync(logs, 1, new string('a', 60));
        var over = await AppendAsync(logs, 1, new string('b', 60));
        Assert.True(over.Truncated);
        Assert.Equal(100 + LogStore.TruncationMarker.Length, over.Length);
        var after = await AppendAsync(logs, 1, "dropped");
        Assert.Equal(over.Length, after.Length);
        await logs.AppendNoteAsync(1, "lease lost");
        var text = await AllAsync(logs, 1);
        Assert.Equal(new string('a', 60) + new string('b', 40) + LogStore.TruncationMarker + "\n[slipway] lease lost\n", text);
        Assert.True((await logs.StateAsync(1)).Truncated);
    }

    [Fact]
    public async Task TwoNodesAppendingToOneJob_OnPostgres_LoseAndOverlapNothing()
    {
        using var db1 = await MigratedDatabase.OpenAsync("postgres", _dir, postgres);
        using var db2 = SqlDatabase.ForPostgres(db1.ConnectionString);
        var (a, _, _) = Node(db1);
        var (b, _, _) = Node(db2);
        var writes = Enumerable.Range(0, 200).Select(i => AppendAsync(i % 2 == 0 ? a : b, 3, $"<{i:D3}>"));
        await Task.WhenAll(writes);
        var text = await AllAsync(b, 3);
        Assert.Equal(200 * 5, text.Length);
        var seen = Enumerable.Range(0, 200).Select(i => text.Substring(i * 5, 5)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"<{i:D3}>").ToList(), seen);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TwoArchiversAtOnce_LeaveOneWholeArchive(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (a, blobs, _) = Node(db);
        var (b, _, _) = Node(db);
        var expected = string.Concat(Enumerable.Range(0, 300).Select(i => $"row {i}\n"));
        foreach (var part in expected.Chunk(100)) await AppendAsync(a, 9, new string(part));
        await Task.WhenAll(a.ArchiveAsync(9, CancellationToken.None), b.ArchiveAsync(9, CancellationToken.None));
        Assert.Equal(expected, await AllAsync(b, 9));
        Assert.Equal(0, await ChunkCountAsync(db, 9));
        Assert.Single(Directory.GetFiles(Path.Combine(blobs.Root, "logs")));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ALogFromBeforeTheChunks_IsReadFromItsFile_AndGoesOn(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (logs, blobs, _) = Node(db);
        var legacy = Path.Combine(blobs.Root, BlobKeys.LegacyLog(5));
        Directory.CreateDirectory(Path.GetDirectoryName(legacy)!);
        await File.WriteAllTextAsync(legacy, "old output\n");
        Assert.Equal("old output\n", await AllAsync(logs, 5));
        Assert.Equal(11, await logs.LengthAsync(5));
        await logs.AppendNoteAsync(5, "retried after the upgrade");
        Assert.Equal("old output\n\n[slipway] retried after the upgrade\n", await PagedAsync(logs, 5, 4));
        Assert.Equal(0, await logs.LengthAsync(6)); // no log at all
        Assert.Equal("", await AllAsync(logs, 6));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AnArchiveLostFromTheStore_IsNeverPatchedOverWithLaterBytes_AndIsNotArchivedOver(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var (logs, blobs, _) = Node(db);
        await AppendAsync(logs, 4, "archived part\n");
        await logs.ArchiveAsync(4, CancellationToken.None);
        await logs.AppendNoteAsync(4, "after the archive");
        File.Delete(Path.Combine(blobs.Root, (await logs.StateAsync(4)).ArchiveKey!));

        // Reads return the log's bytes from the offset or nothing: never the later chunks where the lost part was.
        Assert.Empty(await logs.ReadAsync(4, 0, 1000, CancellationToken.None));
        var tail = await logs.ReadAsync(4, 14, 1000, CancellationToken.None);
        Assert.Equal("\n[slipway] after the archive\n", Encoding.UTF8.GetString(tail));
        // Archiving again would write a log without its beginning: refused, the chunks stay.
        await Assert.ThrowsAsync<InvalidDataException>(() => logs.ArchiveAsync(4, CancellationToken.None));
        Assert.Equal(1, await ChunkCountAsync(db, 4));
        Assert.Empty(Directory.GetFiles(Path.Combine(blobs.Root, "logs"), "4-*")); // the lost one, and none left by the refusal
    }

    public void Dispose() => _dir.Dispose();
}
