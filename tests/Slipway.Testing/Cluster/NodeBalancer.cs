using System.Diagnostics;
using System.Net.Sockets;

namespace Slipway.Testing.Cluster;

/// <summary>
/// A real HAProxy in front of the cluster's nodes, as docs/operations.md recommends: round robin, health-checked on
/// /healthz every 300 ms (a dead or draining node leaves the rotation within a second), a request that cannot connect
/// to its node retried on another (<c>option redispatch</c>), timeouts above the agents' long polls.
/// </summary>
public sealed class NodeBalancer : IAsyncDisposable
{
    private const string Haproxy = "/usr/sbin/haproxy";
    private readonly Process _process;
    private readonly StreamWriter _log;

    public string Url { get; }
    public string RuntimeSocket { get; }

    private NodeBalancer(Process process, StreamWriter log, string url, string socket) => (_process, _log, Url, RuntimeSocket) = (process, log, url, socket);

    public static string Config(int port, string socket, IEnumerable<ClusterNode> nodes) => $"""
        global
            stats socket {socket} mode 600 level admin
        defaults
            mode http
            timeout connect 2s
            timeout client 120s
            timeout server 120s
            retries 3
            option redispatch
        frontend slipway
            bind 127.0.0.1:{port}
            default_backend nodes
        backend nodes
            balance roundrobin
            option httpchk GET /healthz
            http-check expect status 200
            default-server inter 300ms fall 2 rise 2
        {string.Join("\n", nodes.Select(n => $"    server {n.Name} 127.0.0.1:{n.Port} check"))}

        """;

    public static async Task<NodeBalancer> StartAsync(string folder, IReadOnlyList<ClusterNode> nodes)
    {
        var socket = Path.Combine(folder, "haproxy.sock");
        var log = new StreamWriter(Path.Combine(folder, "haproxy.log"), append: true) { AutoFlush = true };
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort.Get();
            var config = Path.Combine(folder, "haproxy.cfg");
            await File.WriteAllTextAsync(config, Config(port, socket, nodes));
            File.Delete(socket);
            var psi = new ProcessStartInfo(Haproxy) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var a in new[] { "-db", "-f", config }) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                if (File.Exists(socket) && CanConnect(port)) return new NodeBalancer(process, log, $"http://127.0.0.1:{port}", socket);
                await Task.Delay(20);
            }
            try { process.Kill(); } catch (InvalidOperationException) { }
            if (attempt == 2) throw new InvalidOperationException("haproxy did not start in front of the nodes; see haproxy.log in " + folder);
        }
    }

    private static bool CanConnect(int port)
    {
        try { using var client = new TcpClient(); client.Connect("127.0.0.1", port); return true; }
        catch (SocketException) { return false; }
    }

    public ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _log.Dispose();
        return ValueTask.CompletedTask;
    }
}
