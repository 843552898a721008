using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Slipway.Server.Runs;

/// <summary>
/// Content-addressed artifact storage: DATA/artifacts/ab/abcdef... named by the SHA-256 of the content.
/// Writing streams to a temporary file while hashing, then moves it into place, so a crash never leaves
/// a file under a digest that does not match it, and equal content is stored once.
/// </summary>
public sealed partial class ArtifactFiles(ServerOptions options)
{
    private string Root => Path.Combine(options.FullDataDirectory, "artifacts");

    public string PathOf(string sha256)
    {
        if (!Sha256Pattern().IsMatch(sha256)) throw new ArgumentException("not a SHA-256 digest", nameof(sha256));
        return Path.Combine(Root, sha256[..2], sha256);
    }

    /// <summary>Stores the stream; returns its digest and size, or throws <see cref="InvalidDataException"/> past the size limit.</summary>
    public async Task<(string Sha256, long Size)> StoreAsync(Stream content, CancellationToken ct)
    {
        Directory.CreateDirectory(Root);
        var temp = Path.Combine(Root, "tmp-" + Guid.NewGuid().ToString("N"));
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
            var final = PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            // Same digest, same bytes: when two uploads race, either file is the right one.
            if (!File.Exists(final)) File.Move(temp, final, overwrite: true);
            return (sha, size);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// The SHA-256 of the stored file named by <paramref name="sha256"/>, computed now, or null when the file is missing.
    /// Differs from <paramref name="sha256"/> only when the file was changed on disk after it was stored.
    /// </summary>
    public async Task<string?> DigestOfStoredAsync(string sha256, CancellationToken ct)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path)) return null;
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
    }

    public Stream? OpenRead(string sha256) => File.Exists(PathOf(sha256)) ? File.OpenRead(PathOf(sha256)) : null;

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
