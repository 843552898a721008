using System.Text.RegularExpressions;

namespace Slipway.Server.Blobs;

/// <summary>
/// <c>s3://bucket/prefix</c> from <see cref="ServerOptions.Blobs"/>, parsed without touching the AWS SDK (so a bad value
/// fails start-up before any client exists). The prefix is optional; when present, every key is stored under
/// <c>prefix/key</c>, its segments held to the same rule as keys.
/// </summary>
public sealed partial record S3Location(string Bucket, string Prefix)
{
    public static S3Location Parse(string value)
    {
        const string Scheme = "s3://";
        if (!value.StartsWith(Scheme, StringComparison.Ordinal))
            throw new BlobStoreException($"--blobs: '{value}' is not an s3://bucket/prefix address");
        var rest = value[Scheme.Length..].TrimEnd('/');
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        // Path-style addressing and most S3-compatible servers accept only DNS-style bucket names.
        if (!BucketPattern().IsMatch(bucket) || bucket.Contains(".."))
            throw new BlobStoreException($"--blobs: '{bucket}' is not a valid bucket name (3-63 characters of a-z, 0-9, '.', '-')");
        if (prefix.Length > 0)
        {
            try { BlobKeys.Check(prefix); }
            catch (ArgumentException) { throw new BlobStoreException($"--blobs: prefix '{prefix}' must be segments of a-z, 0-9, '.', '_', '-' joined by '/'"); }
        }
        return new S3Location(bucket, prefix);
    }

    /// <summary>The object key of a blob key (checked here, before any request).</summary>
    public string ObjectKey(string key) => Prefix.Length == 0 ? BlobKeys.Check(key) : Prefix + "/" + BlobKeys.Check(key);

    public override string ToString() => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}";

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();
}
