using System.Text.RegularExpressions;

namespace Slipway.Server.Blobs;

/// <summary>The keys Slipway stores blobs under, and the one check every provider applies to a key.</summary>
public static partial class BlobKeys
{
    /// <summary>A content-addressed file (artifact, release file, attachment): artifacts/ab/abcdef…</summary>
    public static string Artifact(string sha256) => $"artifacts/{sha256[..2]}/{sha256}";

    /// <summary>
    /// A job's archived log, one key per archiving (length and a nonce in the name): two archivers racing each write their
    /// own blob, and the one the database row does not point at is deleted, never a blob someone still reads.
    /// </summary>
    public static string Log(long jobId, long length, string nonce) => $"logs/{jobId}-{length}-{nonce}.log";

    /// <summary>A job's log as it was kept before logs went to the database (a file per job in the data folder).</summary>
    public static string LegacyLog(long jobId) => $"logs/{jobId}.log";

    /// <summary>Throws unless <paramref name="key"/> is segments of [a-z0-9._-] joined by '/', none of them "." or "..".</summary>
    public static string Check(string key)
    {
        if (!KeyPattern().IsMatch(key) || key.Split('/').Any(s => s is "." or ".."))
            throw new ArgumentException($"not a valid blob key: '{key}'", nameof(key));
        return key;
    }

    [GeneratedRegex("^[a-z0-9._-]+(/[a-z0-9._-]+)*$")]
    private static partial Regex KeyPattern();
}
