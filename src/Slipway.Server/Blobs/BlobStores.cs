using System.Runtime.CompilerServices;

namespace Slipway.Server.Blobs;

/// <summary>Chooses the blob store from <see cref="ServerOptions.Blobs"/>.</summary>
public static class BlobStores
{
    public static IBlobStore FromOptions(ServerOptions options) => options.Blobs switch
    {
        null or "" => new LocalBlobStore(options.FullDataDirectory),
        var s when s.StartsWith("s3://", StringComparison.Ordinal) => CreateS3(S3Location.Parse(s), options),
        // A directory of its own: one that every node mounts (NFS or similar) in place of an object store.
        var s when Path.IsPathFullyQualified(s) => new LocalBlobStore(Path.GetFullPath(s)),
        var s => throw new BlobStoreException($"--blobs must be empty (the data folder), an absolute directory (shared by every node) or s3://bucket/prefix, not '{s}'"),
    };

    // Kept out of FromOptions so that its JIT never resolves S3BlobStore: a server on the local default then never
    // loads the AWS SDK's assemblies (several MiB of idle memory for nothing, as with Npgsql in SqlDatabase).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IBlobStore CreateS3(S3Location location, ServerOptions options) => S3BlobStore.Create(location, options);
}
