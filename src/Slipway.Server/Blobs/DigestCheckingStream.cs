using System.Security.Cryptography;

namespace Slipway.Server.Blobs;

/// <summary>
/// Reads a content-addressed blob and hashes it on the way; at the end of the content it throws
/// <see cref="InvalidDataException"/> when the bytes read do not have the expected SHA-256. A reader streaming a
/// blob changed in the store (by hand, by a broken disk or bucket) therefore fails instead of getting wrong bytes
/// as if they were right: an HTTP download is cut off, a deployment fetch fails its digest check.
/// </summary>
public sealed class DigestCheckingStream(Stream inner, string expectedSha256) : ReadOnlyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _checked;

    // A zero-byte read (readers use them to wait for data) returns 0 without meaning the end: only a read that
    // asked for bytes and got none ends the content and checks it.
    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return buffer.IsEmpty ? n : Seen(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        return buffer.IsEmpty ? n : Seen(buffer.Span[..n]);
    }

    private int Seen(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0) { _hash.AppendData(bytes); return bytes.Length; }
        if (_checked) return 0;
        _checked = true;
        var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (actual != expectedSha256)
            throw new InvalidDataException($"stored content sha256 {actual} does not match its recorded digest {expectedSha256}; not served");
        return 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); _hash.Dispose(); }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        _hash.Dispose();
        GC.SuppressFinalize(this);
    }
}
