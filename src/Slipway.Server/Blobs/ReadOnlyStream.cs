namespace Slipway.Server.Blobs;

/// <summary>
/// The base of the server's forward-only read streams (a window on a blob, a digest check, a log read page by page, a
/// push's consumed prefix): a subclass reads with <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> and
/// <see cref="Read(Span{byte})"/>; everything about seeking and writing is refused here, once.
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    // Both abstract again: Stream's defaults call each other, so a subclass that forgot one would recurse forever.
    public abstract override int Read(Span<byte> buffer);

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
