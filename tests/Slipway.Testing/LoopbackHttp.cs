using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slipway.Testing;

/// <summary>
/// A tiny HTTP server on 127.0.0.1 for the tests: plays the application a live check probes or a load test measures (the
/// test switches its <see cref="Status"/> and <see cref="Delay"/>) and the webhook receiver (it keeps every request's body;
/// failFirst answers 500 to that many requests before answering <see cref="Status"/>). Keep-alive, so a load generator
/// measures the app's delay rather than connection set-up; plain sockets, nothing between the test and the wire.
/// </summary>
public sealed class LoopbackHttp : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _failuresLeft;

    public LoopbackHttp(int failFirst = 0)
    {
        _failuresLeft = failFirst;
        _listener.Start(64);
        _ = AcceptAsync();
    }

    /// <summary>What it answers (after the failures asked for at the start).</summary>
    public volatile int Status = 200;
    /// <summary>How long it takes before each answer (a slow application).</summary>
    public TimeSpan Delay { get; set; }
    public ConcurrentQueue<(int Answered, string Body)> Requests { get; } = new();
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hook/secret-path-token";
    public IReadOnlyList<string> Bodies => Requests.Select(r => r.Body).ToList();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                // Bytes, not characters: Content-Length counts bytes, and a body may hold non-ASCII text.
                var data = new List<byte>();
                var buffer = new byte[4096];
                while (!_stop.IsCancellationRequested) // one request after the other on the connection (keep-alive)
                {
                    int headerEnd;
                    while ((headerEnd = IndexOfBlankLine(data)) < 0)
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) return;
                        data.AddRange(buffer.AsSpan(0, n));
                    }
                    var headers = Encoding.ASCII.GetString(data.GetRange(0, headerEnd).ToArray()).Split("\r\n");
                    var length = headers.Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(h => int.Parse(h[15..].Trim())).FirstOrDefault();
                    while (data.Count - headerEnd - 4 < length)
                    {
                        var n = await stream.ReadAsync(buffer, _stop.Token);
                        if (n == 0) return;
                        data.AddRange(buffer.AsSpan(0, n));
                    }
                    var body = Encoding.UTF8.GetString(data.GetRange(headerEnd + 4, length).ToArray());
                    data.RemoveRange(0, headerEnd + 4 + length);
                    var status = Interlocked.Decrement(ref _failuresLeft) >= 0 ? 500 : Status;
                    Requests.Enqueue((status, body));
                    if (Delay > TimeSpan.Zero) await Task.Delay(Delay, _stop.Token);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Length: 7\r\n\r\nhealthy"), _stop.Token);
                }
            }
            catch (Exception) { } // the client went away, or the server stops
        }
    }

    private static int IndexOfBlankLine(List<byte> data)
    {
        for (var i = 0; i + 3 < data.Count; i++)
            if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n') return i;
        return -1;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
