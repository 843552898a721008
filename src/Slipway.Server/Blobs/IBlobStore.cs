namespace Slipway.Server.Blobs;

/// <summary>
/// Where the server keeps bytes that are not rows: artifacts and release files (content-addressed, see
/// <see cref="Slipway.Server.Runs.ArtifactFiles"/>), archived job logs and gate attachments. One interface, two
/// providers: a local directory (the single-node default, <see cref="LocalBlobStore"/>) and an S3-compatible object
/// store shared by every server node (S3BlobStore). Keys are relative paths made of
/// <c>[a-z0-9._-]</c> segments separated by '/', checked by <see cref="BlobKeys"/>; a caller never passes user input
/// as a key without going through it.
/// </summary>
public interface IBlobStore
{
    /// <summary>What the operator configured, for the start-up line and the node page ("local /srv/slipway/blobs", "s3://bucket/prefix").</summary>
    string Description { get; }

    /// <summary>
    /// Stores the file at <paramref name="localPath"/> under <paramref name="key"/>, replacing what was there. The local
    /// provider moves the file into place (the caller's file is gone afterwards); the S3 provider uploads it (multipart
    /// when large) and deletes it. Either way the key shows the whole content or its previous content, never a part.
    /// </summary>
    Task PutFileAsync(string key, string localPath, CancellationToken ct);

    /// <summary>
    /// Opens <paramref name="key"/> for reading from <paramref name="offset"/>, at most <paramref name="length"/> bytes
    /// (all the rest when null). Null when the key does not exist. The stream is forward-only.
    /// </summary>
    Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>The stored size in bytes, or null when the key does not exist.</summary>
    Task<long?> SizeAsync(string key, CancellationToken ct);

    /// <summary>Removes <paramref name="key"/>; true when it existed (the S3 provider cannot tell and answers true).</summary>
    Task<bool> DeleteAsync(string key, CancellationToken ct);

    /// <summary>
    /// Proves the store usable (run once at start-up, so a wrong bucket or credential stops the server with a clear
    /// message instead of failing the first upload); throws <see cref="BlobStoreException"/> when it is not.
    /// </summary>
    Task CheckAsync(CancellationToken ct);
}
