using System.Text.RegularExpressions;

namespace Slipway.Server.Blobs;

/// <summary>The keys Slipway stores blobs under, and the one check every provider applies to a key.</summary>
public static partial class BlobKeys
{
    /// <summary>A content-addressed file (artifact, release file, attachment): artifacts/ab/abcdef…</summary>
    public static string Artifact(string sha256) => $"artifacts/{sha256[..2]}/{sha256}";

    /// <summary>A job's archived log.</summary>
    public static string Log(long jobId) => $"logs/{jobId}.log";

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
