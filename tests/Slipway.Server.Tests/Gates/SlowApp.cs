using System.Net;
using System.Net.Sockets;

namespace Slipway.Server.Tests.Gates;

/// <summary>
/// A small HTTP app on 127.0.0.1 for load tests: answers "ok" after <see cref="Delay"/> (set by the test to make it slow).
/// Plain sockets: no framework in the way of the latency being measured.
/// </summary>
public sealed class SlowApp : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public TimeSpan Delay { get; set; }
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    public SlowApp()
    {
        _listener.Start(512);
        _ = AcceptAsync();
    }

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
                var reader = new StreamReader(stream);
                while (!_stop.IsCancellationRequested)
                {
                    // One request per loop (keep-alive): read the header lines up to the blank one.
                    var line = await reader.ReadLineAsync(_stop.Token);
                    if (line is null) return;
                    while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token))) { }
                    if (Delay > TimeSpan.Zero) await Task.Delay(Delay, _stop.Token);
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception) { } // the client went away, or the app stops
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
