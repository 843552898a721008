namespace Slipway.Server.Blobs;

/// <summary>Chooses the blob store from <see cref="ServerOptions.Blobs"/>.</summary>
public static class BlobStores
{
    public static IBlobStore FromOptions(ServerOptions options) => options.Blobs switch
    {
        null or "" => new LocalBlobStore(options.FullDataDirectory),
        var s when s.StartsWith("s3://", StringComparison.Ordinal) => throw new NotSupportedException("the S3 blob store is not built yet"),
        var s => throw new ArgumentException($"--blobs must be empty (the data folder) or s3://bucket/prefix, not '{s}'"),
    };
}
