using System.Security.Cryptography;
using Dapper;

namespace Slipway.Server.Nodes;

/// <summary>
/// Proves, when a node starts on PostgreSQL, that it uses the blob store and the hosted-repository directory the other
/// nodes of that database use: the first node writes a random mark into both, then records it in the database; every node
/// then finds that mark in both, or refuses to start. A node started without <c>--blobs</c> or <c>--hosted-dir</c> would
/// otherwise join the cluster and answer 404 for artifacts, "repository not found" for hosted pushes and empty logs,
/// behind the balancer, for a share of the requests. SQLite has one node by definition: nothing to check.
/// </summary>
public static class SharedStorageCheck
{
    public static async Task RunAsync(SqlDatabase db, IBlobStore blobs, ServerOptions options, TimeProvider clock, CancellationToken ct)
    {
        if (db.Dialect != SqlDialect.Postgres) return;
        try { await CheckAsync(db, blobs, options, clock, ct); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SharedStorageException($"cannot check that this node shares the other nodes' storage: {e.Message}");
        }
    }

    private static async Task CheckAsync(SqlDatabase db, IBlobStore blobs, ServerOptions options, TimeProvider clock, CancellationToken ct)
    {
        var hosted = options.FullHostedDirectory;
        var recorded = await ReadAsync(db);
        if (recorded is null)
        {
            // Written into both stores before it is recorded: once the row is there, every node finds the mark it names.
            var mark = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            await WriteAsync(mark, blobs, hosted, options, ct);
            await db.WriteAsync((c, tx) => c.ExecuteAsync(
                "INSERT INTO shared_storage_mark (id, mark, node, created_at) VALUES (1, @mark, @node, @now) ON CONFLICT (id) DO NOTHING",
                new { mark, node = options.NodeName ?? "", now = clock.GetUtcNow().ToUnixTimeMilliseconds() }, tx));
            recorded = await ReadAsync(db);
            if (recorded!.Mark != mark) await ForgetAsync(mark, blobs, hosted); // another node recorded its own first
        }
        var missing = new List<string>();
        if (await blobs.SizeAsync(BlobKey(recorded.Mark), ct) is null) missing.Add($"the blob store ({blobs.Description}) lacks {BlobKey(recorded.Mark)}");
        // The hosted directory matters once something lives there or the operator named one: a cluster that hosts no
        // repository (and set no SLIPWAY_HOSTED_DIR, as the docs allowed) must not stop at its upgrade. Every node writes the
        // mark into its own when it is missing there and nothing depends on it yet.
        if (await HostedNeededAsync(db, options) && !File.Exists(HostedFile(hosted, recorded.Mark))) missing.Add($"the hosted-repository directory ({hosted}) lacks {Path.GetFileName(HostedFile(hosted, recorded.Mark))}");
        if (missing.Count > 0)
            throw new SharedStorageException(
                $"this node does not share the storage of the other nodes on this database: {string.Join("; ", missing)}, which node " +
                $"'{recorded.Node}' wrote there at {DateTimeOffset.FromUnixTimeMilliseconds(recorded.CreatedAt).UtcDateTime:yyyy-MM-dd HH:mm} UTC. Give every node " +
                "the same --blobs (one S3 bucket and prefix, or one directory they all mount) and --hosted-dir (one shared directory, e.g. NFS): " +
                "docs/operations.md#what-each-node-needs");
    }

    public static string BlobKey(string mark) => $"cluster/storage-mark-{mark}";

    /// <summary>Whether this node needs the cluster's hosted directory: one was configured, or a project's repository is a local path.</summary>
    private static async Task<bool> HostedNeededAsync(SqlDatabase db, ServerOptions options) =>
        options.HostedDirectory is not null
        || await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM projects WHERE repo_url LIKE '/%'")) > 0;

    private static string HostedFile(string hosted, string mark) => Path.Combine(hosted, $".slipway-storage-mark-{mark}");

    private sealed record Recorded(string Mark, string Node, long CreatedAt);

    private static Task<Recorded?> ReadAsync(SqlDatabase db) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<Recorded>("SELECT mark AS Mark, node AS Node, created_at AS CreatedAt FROM shared_storage_mark WHERE id = 1"));

    private static async Task WriteAsync(string mark, IBlobStore blobs, string hosted, ServerOptions options, CancellationToken ct)
    {
        Directory.CreateDirectory(hosted);
        await File.WriteAllTextAsync(HostedFile(hosted, mark), mark + "\n", ct);
        var staged = Path.Combine(options.FullDataDirectory, $".storage-mark-{mark}");
        await File.WriteAllTextAsync(staged, mark + "\n", ct);
        try { await blobs.PutFileAsync(BlobKey(mark), staged, ct); }
        finally { File.Delete(staged); }
    }

    private static async Task ForgetAsync(string mark, IBlobStore blobs, string hosted)
    {
        File.Delete(HostedFile(hosted, mark));
        try { await blobs.DeleteAsync(BlobKey(mark), CancellationToken.None); }
        catch (BlobStoreException) { } // a stray mark of a node that lost the race harms nothing
    }
}

/// <summary>The node's blob store or hosted-repository directory is not the one the other nodes use: it must not start.</summary>
public sealed class SharedStorageException(string message) : Exception(message);
