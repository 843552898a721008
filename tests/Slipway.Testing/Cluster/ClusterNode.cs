using System.Diagnostics;

namespace Slipway.Testing.Cluster;

/// <summary>
/// One Slipway server node as a real <c>slipway server</c> process (so a test can SIGKILL it) on its own loopback port,
/// with its own data folder (mirrors, temp files) and the cluster's shared PostgreSQL, bucket and hosted directory.
/// Its console output goes to DATA/node.log.
/// </summary>
public sealed class ClusterNode(string name, int port, string dataDirectory, Func<IReadOnlyList<string>> arguments, IReadOnlyDictionary<string, string> environment)
{
    private Process? _process;
    private StreamWriter? _log;

    public string Name { get; } = name;
    public int Port { get; } = port;
    public string Url => $"http://127.0.0.1:{Port}";
    public string DataDirectory { get; } = dataDirectory;
    public string LogFile => Path.Combine(DataDirectory, "node.log");
    public bool Running => _process is { HasExited: false };
    public int? Pid => Running ? _process!.Id : null;

    public void Start()
    {
        if (Running) throw new InvalidOperationException($"node {Name} is running already");
        Directory.CreateDirectory(DataDirectory);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(RepositoryLayout.SlipwayDll);
        foreach (var a in arguments()) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        _log ??= new StreamWriter(LogFile, append: true) { AutoFlush = true };
        var log = _log;
        lock (log) log.WriteLine($"--- start {DateTime.UtcNow:O}");
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Waits until the node answers /healthz with 200 (or throws with the tail of its log).</summary>
    public async Task WaitHealthyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true }) throw new InvalidOperationException($"node {Name} exited with {_process.ExitCode}:\n{Tail()}");
            try { if ((await http.GetAsync(Url + "/healthz")).IsSuccessStatusCode) return; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"node {Name} not healthy in time:\n{Tail()}");
    }

    /// <summary>SIGKILL: the node dies at once, mid-request, holding whatever it held (leases, locks, connections).</summary>
    public void Kill()
    {
        if (_process is null) return;
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM and wait: a graceful stop, as an operator's upgrade does.</summary>
    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            ProcessRunner.Run("/bin/kill", ["-TERM", _process.Id.ToString()]);
            if (!_process.WaitForExit(20_000)) _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public string Tail(int lines = 40)
    {
        try { return File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(lines)) : "(no log)"; }
        catch (IOException e) { return $"(log unreadable: {e.Message})"; }
    }

    public void DisposeLog() => _log?.Dispose();
}
