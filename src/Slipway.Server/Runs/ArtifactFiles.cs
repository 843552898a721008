using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Slipway.Server.Runs;

/// <summary>
/// Content-addressed files (artifacts, release files, node-task files, sign-off attachments) in the blob store, under
/// <see cref="BlobKeys.Artifact"/>: named by the SHA-256 of the content, so equal content is stored once. Writing
/// streams to a temporary file in DATA/tmp while hashing and hands the finished file to the store, so a crash never
/// leaves content under a digest that does not match it. Every read is checked against the digest as it streams
/// (<see cref="DigestCheckingStream"/>): a blob changed in the store fails its reader instead of being served.
/// </summary>
public sealed partial class ArtifactFiles(ServerOptions options, IBlobStore blobs)
{
    private string TempDirectory => Path.Combine(options.FullDataDirectory, "tmp");

    private static string KeyOf(string sha256) =>
        Sha256Pattern().IsMatch(sha256) ? BlobKeys.Artifact(sha256) : throw new ArgumentException("not a SHA-256 digest", nameof(sha256));

    /// <summary>Stores the stream; returns its digest and size, or throws <see cref="InvalidDataException"/> past the size limit.</summary>
    public async Task<(string Sha256, long Size)> StoreAsync(Stream content, CancellationToken ct)
    {
        Directory.CreateDirectory(TempDirectory);
        var temp = Path.Combine(TempDirectory, "artifact-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > options.ArtifactLimitBytes)
                        throw new InvalidDataException($"artifact larger than the limit of {options.ArtifactLimitBytes / (1024 * 1024)} MB");
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            // Same digest, same bytes: stored once. When two uploads race, either put is the right one.
            if (await blobs.SizeAsync(KeyOf(sha), ct) != size) await blobs.PutFileAsync(KeyOf(sha), temp, ct);
            return (sha, size);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// The SHA-256 of the stored content named by <paramref name="sha256"/>, computed now, or null when it is missing.
    /// Differs from <paramref name="sha256"/> only when the content was changed in the store after it was stored.
    /// </summary>
    public async Task<string?> DigestOfStoredAsync(string sha256, CancellationToken ct)
    {
        await using var stream = await blobs.OpenReadAsync(KeyOf(sha256), ct: ct);
        return stream is null ? null : Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    /// <summary>The content, checked against <paramref name="sha256"/> as it is read; null when it is missing from the store.</summary>
    public async Task<Stream?> OpenReadAsync(string sha256, CancellationToken ct) =>
        await blobs.OpenReadAsync(KeyOf(sha256), ct: ct) is { } stream ? new DigestCheckingStream(stream, sha256) : null;

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
