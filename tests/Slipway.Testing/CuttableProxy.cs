using System.Net;
using System.Net.Sockets;

namespace Slipway.Testing;

/// <summary>
/// A loopback TCP relay in front of a server whose open connections can be cut at once, as a reverse
/// proxy's idle timeout or a network hiccup would, while the server itself keeps running.
/// </summary>
public sealed class CuttableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;

    public CuttableProxy(string targetUrl)
    {
        var uri = new Uri(targetUrl);
        _target = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public string Url { get; }
    public int Cuts { get; private set; }

    /// <summary>Connections relayed now (each counted once, not its two sockets).</summary>
    public int Open
    {
        get { lock (_open) return _open.Count / 2; }
    }

    /// <summary>Closes every connection open now and returns how many (each counted once, as <see cref="Open"/>); new ones are relayed as before.</summary>
    public int CutAll()
    {
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            var n = _open.Count / 2;
            _open.Clear();
            Cuts += n;
            return n;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        lock (_open) { _open.Add(client); _open.Add(upstream); }
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
            var a = client.GetStream();
            var b = upstream.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception) { }
        finally
        {
            lock (_open) { _open.Remove(client); _open.Remove(upstream); }
            client.Dispose();
            upstream.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        await _accepting;
        _stop.Dispose();
    }
}
