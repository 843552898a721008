namespace Slipway.Server.Blobs;

/// <summary>
/// A download body whose every read must bring bytes within <c>timeout</c>: the SDK's request timeout ends when the
/// answer's headers arrive, so without this an object store that sends headers and then stalls would hold a log read,
/// an artifact download or a release forever. A read that times out aborts the download (the inner stream is cancelled)
/// and throws what <c>failure</c> makes of it (naming the bucket and key); so does any other failure <c>failure</c>
/// answers for (null: let it through as it is). Owns the inner stream.
/// </summary>
internal sealed class ReadTimeoutStream(Stream inner, TimeSpan timeout, Func<Exception, Exception?> failure) : ReadOnlyStream
{
    // Sync reads go through the async path: a sync read of a network stream cannot be bounded otherwise.
    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        // Returned to the pool only after a read that ended: one abandoned by the timeout may still write into it.
        var n = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
        rented.AsSpan(0, n).CopyTo(buffer);
        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            // The wait is the backstop for a wrapper in the SDK's chain that would not pass the token down.
            return await inner.ReadAsync(buffer, limit.Token).AsTask().WaitAsync(timeout + TimeSpan.FromSeconds(1), ct);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException && !ct.IsCancellationRequested)
        {
            inner.Dispose(); // aborts the connection, and with it a read still pending
            var stalled = new DownloadStalledException($"no bytes for {timeout.TotalSeconds:0.#} s in the middle of a download", e);
            throw failure(stalled) ?? stalled;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && failure(e) is { } reported)
        {
            throw reported; // a connection reset half-way, named like every other failure of the store
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>A download whose body stopped coming for longer than the read timeout.</summary>
internal sealed class DownloadStalledException(string message, Exception cause) : TimeoutException(message, cause);
