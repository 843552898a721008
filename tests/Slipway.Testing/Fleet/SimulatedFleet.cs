using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slipway.Testing.Fleet;

/// <summary>
/// N simulated rollout targets on 127.0.0.1 behind one HAProxy, modelled on
/// <c>bench/ansible-lastmile/setup.sh</c>: per host its own sshd (own ed25519 host key, so fingerprints
/// differ), its own directory tree and a tiny HTTP service (<c>python3 -m http.server</c> serving
/// <c>current/</c>, so GET /VERSION answers the live version) managed by <c>bin/svc.sh</c>; one HAProxy with
/// backend <see cref="Backend"/> listing h1..hN with fast health checks and an admin runtime socket.
/// </summary>
/// <remarks>
/// Everything lives under one temp folder. Dispose stops, by PID, every process this fleet started (each
/// sshd with its sessions, each service as recorded in its pidfile, HAProxy) and deletes the folder.
/// Nothing outside the folder is touched except <c>/run/sshd</c>, sshd's compiled-in privilege-separation
/// directory, created (empty) when missing. The SSH user is the current user (root in CI).
/// </remarks>
public sealed class SimulatedFleet : IAsyncDisposable
{
    public const string Backend = "app";
    private const string Python = "/usr/bin/python3";
    private const string Sshd = "/usr/sbin/sshd";
    private const string Haproxy = "/usr/sbin/haproxy";

    private readonly TempDirectory _dir;
    private readonly List<SimulatedHost> _hosts = [];
    private Process? _haproxy;
    private StreamWriter? _haproxyLog;
    private int _keyCounter;

    private SimulatedFleet(TempDirectory dir) => _dir = dir;

    public string Root => _dir.Path;
    public IReadOnlyList<SimulatedHost> Hosts => _hosts;
    public string User { get; } = Environment.UserName;

    /// <summary>The authorized client key (OpenSSH ed25519, no passphrase) as text, and its file.</summary>
    public string ClientPrivateKey { get; private set; } = "";
    public string ClientPrivateKeyPath => Path.Combine(Root, "keys", "id_ed25519");
    public string AuthorizedKeysPath => Path.Combine(Root, "keys", "authorized_keys");

    /// <summary>HAProxy's frontend, e.g. "http://127.0.0.1:41234".</summary>
    public string FrontendUrl { get; private set; } = "";

    /// <summary>HAProxy's admin runtime socket (level admin).</summary>
    public string RuntimeSocket => Path.Combine(Root, "run", "haproxy.sock");

    public string HaproxyLog => Path.Combine(Root, "log", "haproxy.log");

    /// <summary>How long <see cref="StartAsync"/> took.</summary>
    public TimeSpan StartupTime { get; private set; }

    public static async Task<SimulatedFleet> StartAsync(int hosts, string initialVersion = "v0")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        foreach (var tool in new[] { Sshd, Haproxy, Python, "/usr/bin/ssh-keygen", "/usr/bin/curl", "/usr/bin/setsid" })
            if (!File.Exists(tool))
                throw new InvalidOperationException(
                    $"{tool} is missing. Run ./test.sh (it installs openssh-server, haproxy, python3, curl) or apt-get install them.");
        var watch = Stopwatch.StartNew();
        var fleet = new SimulatedFleet(new TempDirectory("slw-fleet"));
        try
        {
            await Task.Run(() => fleet.Provision(hosts, initialVersion));
            await Task.WhenAll(fleet._hosts.Select(h => Task.Run(() => fleet.StartHost(h))));
            await fleet.StartHaproxyAsync();
            await fleet.WaitAllUpAsync(TimeSpan.FromSeconds(20));
            fleet.StartupTime = watch.Elapsed;
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    private void Provision(int hosts, string initialVersion)
    {
        foreach (var d in new[] { "keys", "run", "log", "hosts" })
            Directory.CreateDirectory(Path.Combine(Root, d));
        if (!Directory.Exists("/run/sshd"))
        {
            // sshd refuses to start without its privilege-separation directory (systemd normally creates it).
            Directory.CreateDirectory("/run/sshd");
            File.SetUnixFileMode("/run/sshd", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        KeyGen(ClientPrivateKeyPath, "ed25519", null, "slipway-fleet-client");
        ClientPrivateKey = File.ReadAllText(ClientPrivateKeyPath);
        File.WriteAllText(AuthorizedKeysPath, File.ReadAllText(ClientPrivateKeyPath + ".pub"));

        // Every host has its own loopback address (127.0.0.11, .12, ...; all of 127/8 is the loopback interface) and the
        // same service port, like a real fleet: a health check can then be written once, http://$SLIPWAY_TARGET_HOST:PORT/.
        var appPort = FreePort.Get(Enumerable.Range(1, hosts).Select(i => IPAddress.Parse($"127.0.0.{10 + i}")).ToArray());
        for (var i = 1; i <= hosts; i++)
        {
            var name = $"h{i}";
            var host = new SimulatedHost(name, Path.Combine(Root, "hosts", name), $"127.0.0.{10 + i}", appPort);
            foreach (var d in new[] { "incoming", "releases", "run", "log", "bin" })
                Directory.CreateDirectory(Path.Combine(host.Root, d));
            var release = Path.Combine(host.Root, "releases", initialVersion);
            Directory.CreateDirectory(release);
            File.WriteAllText(Path.Combine(release, "VERSION"), initialVersion + "\n");
            File.CreateSymbolicLink(Path.Combine(host.Root, "current"), release);

            var hostKey = Path.Combine(host.Root, "ssh_host_ed25519_key");
            KeyGen(hostKey, "ed25519", null, $"slipway-fleet-{name}");
            host.Fingerprint = Fingerprint(hostKey + ".pub");

            var svc = Path.Combine(host.Root, "bin", "svc.sh");
            File.WriteAllText(svc, ServiceScript(host));
            File.SetUnixFileMode(svc, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            _hosts.Add(host);
        }
    }

    private void StartHost(SimulatedHost host)
    {
        StartSshd(host);
        var start = ProcessRunner.Run(Path.Combine(host.Root, "bin", "svc.sh"), ["start"], timeout: TimeSpan.FromSeconds(40));
        if (start.ExitCode != 0)
            throw new InvalidOperationException($"{host.Name}: service did not start: {start.StdErr.Trim()} {start.StdOut.Trim()}");
    }

    /// <summary>Starts (or restarts) a host's sshd on a free port and waits for its SSH banner.</summary>
    private void StartSshd(SimulatedHost host)
    {
        string? lastError = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            host.SshPort = FreePort.Get(IPAddress.Parse(host.Address));
            File.WriteAllText(host.SshdConfig, SshdConfig(host));
            var psi = new ProcessStartInfo(Sshd)
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var a in new[] { "-D", "-f", host.SshdConfig, "-E", host.SshdLog })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lastError = e.Data; };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            host.Sshd = process;
            if (WaitForBanner(host, process, TimeSpan.FromSeconds(10)))
                return;
            StopProcess(process);
            host.Sshd = null;
            lastError ??= Tail(host.SshdLog);
        }
        throw new InvalidOperationException($"{host.Name}: sshd did not start: {lastError}\n{Tail(host.SshdLog)}");
    }

    private static bool WaitForBanner(SimulatedHost host, Process process, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (process.HasExited)
                return false;
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", host.SshPort);
                client.ReceiveTimeout = 2000;
                var buffer = new byte[8];
                var n = client.GetStream().ReadAtLeast(buffer, 4, throwOnEndOfStream: false);
                if (n >= 4 && Encoding.ASCII.GetString(buffer, 0, 4) == "SSH-")
                    return true;
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
            }
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Stops a host's sshd (and its open sessions), so the host is unreachable over SSH.</summary>
    public async Task StopSshdAsync(SimulatedHost host)
    {
        if (host.Sshd is { } p)
        {
            await Task.Run(() => StopProcess(p));
            host.Sshd = null;
        }
    }

    /// <summary>Starts a stopped host's sshd again (on a new port: see <see cref="SimulatedHost.SshPort"/>).</summary>
    public Task StartSshdAsync(SimulatedHost host) =>
        host.SshdRunning ? Task.CompletedTask : Task.Run(() => StartSshd(host));

    private async Task StartHaproxyAsync()
    {
        string? failure = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Get();
            FrontendUrl = $"http://127.0.0.1:{port}";
            var config = Path.Combine(Root, "haproxy.cfg");
            File.WriteAllText(config, HaproxyConfig(port));
            File.Delete(RuntimeSocket);
            var psi = new ProcessStartInfo(Haproxy)
            {
                UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var a in new[] { "-db", "-f", config })
                psi.ArgumentList.Add(a);
            _haproxyLog ??= new StreamWriter(HaproxyLog, append: true) { AutoFlush = true };
            var log = _haproxyLog;
            var process = Process.Start(psi)!;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _haproxy = process;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                if (File.Exists(RuntimeSocket) && CanConnect(port))
                    return;
                await Task.Delay(20);
            }
            failure = process.HasExited ? $"haproxy exited with {process.ExitCode}" : "haproxy did not open its socket and frontend in 10 s";
            StopProcess(process);
            _haproxy = null;
        }
        throw new InvalidOperationException($"{failure}\n{Tail(HaproxyLog)}");
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// What HAProxy serves now: <paramref name="requests"/> fresh GET /VERSION, one connection each. For "the fleet ends on
    /// version X" after a rollout, rather than a load client's last answer: under load a request an old host took just
    /// before its drain can be answered after newer ones.
    /// </summary>
    public async Task<IReadOnlyList<string>> VersionsNowAsync(int requests = 12)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var versions = new List<string>();
        for (var i = 0; i < requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, FrontendUrl.TrimEnd('/') + "/VERSION");
            request.Headers.ConnectionClose = true;
            using var response = await http.SendAsync(request);
            versions.Add((await response.Content.ReadAsStringAsync()).Trim());
        }
        return versions;
    }

    /// <summary>Waits until HAProxy reports every server of <see cref="Backend"/> UP.</summary>
    public async Task WaitAllUpAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        var watch = Stopwatch.StartNew();
        string last = "";
        while (true)
        {
            try
            {
                last = await HaproxyCommandAsync("show stat");
                var up = HaproxyStatusesOf(last).Count(s => s.Status.StartsWith("UP", StringComparison.Ordinal));
                if (up == _hosts.Count)
                    return;
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                last = ex.Message;
            }
            if (watch.Elapsed > limit)
                throw new TimeoutException($"HAProxy did not report all {_hosts.Count} servers UP within {limit.TotalSeconds} s:\n{last}");
            await Task.Delay(50);
        }
    }

    /// <summary>One raw runtime API exchange, independent of the code under test.</summary>
    public async Task<string> HaproxyCommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(RuntimeSocket), cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, cts.Token);
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(cts.Token);
    }

    /// <summary>(server, status) of the backend's servers, read with awk-like simplicity as the bench does.</summary>
    public static IEnumerable<(string Server, string Status)> HaproxyStatusesOf(string showStat)
    {
        var lines = showStat.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || !lines[0].StartsWith("# "))
            yield break;
        var header = lines[0][2..].Split(',');
        int sv = Array.IndexOf(header, "svname"), st = Array.IndexOf(header, "status");
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length > st && f[0] == Backend && f[sv] is not ("FRONTEND" or "BACKEND"))
                yield return (f[sv], f[st]);
        }
    }

    /// <summary>
    /// Makes another client key pair and returns its private key text: <paramref name="type"/> "ed25519" or
    /// "rsa" (2048 bits, or "rsa-pem" for the old PEM format), with an optional passphrase. Authorized on every host
    /// unless <paramref name="authorize"/> is false.
    /// </summary>
    public Task<string> CreateClientKeyAsync(string? passphrase = null, string type = "ed25519", bool authorize = true) => Task.Run(() =>
    {
        var path = Path.Combine(Root, "keys", $"extra-{Interlocked.Increment(ref _keyCounter)}-{type}");
        KeyGen(path, type, passphrase, "slipway-fleet-extra");
        if (authorize)
            lock (_hosts)
                File.AppendAllText(AuthorizedKeysPath, File.ReadAllText(path + ".pub"));
        return File.ReadAllText(path);
    });

    private static void KeyGen(string path, string type, string? passphrase, string comment)
    {
        List<string> args = type switch
        {
            "ed25519" => ["-t", "ed25519"],
            "rsa" => ["-t", "rsa", "-b", "2048"],
            "rsa-pem" => ["-t", "rsa", "-b", "2048", "-m", "PEM"],
            _ => throw new ArgumentException($"Unknown key type {type}", nameof(type)),
        };
        var result = ProcessRunner.Run("/usr/bin/ssh-keygen", [.. args, "-q", "-N", passphrase ?? "", "-C", comment, "-f", path]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"ssh-keygen failed: {result.StdErr}");
    }

    /// <summary>"SHA256:..." exactly as <c>ssh-keygen -lf</c> prints it ("256 SHA256:xxx comment (ED25519)").</summary>
    private static string Fingerprint(string publicKeyPath)
    {
        var result = ProcessRunner.Run("/usr/bin/ssh-keygen", ["-lf", publicKeyPath]);
        var fingerprint = result.StdOut.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        if (result.ExitCode != 0 || fingerprint is null || !fingerprint.StartsWith("SHA256:"))
            throw new InvalidOperationException($"ssh-keygen -lf failed: {result.StdOut} {result.StdErr}");
        return fingerprint;
    }

    /// <summary>
    /// A release tarball like the bench's: <c>app-&lt;version&gt;.tar.gz</c> in <paramref name="dir"/> holding
    /// <c>VERSION</c> and a random (incompressible) <c>lib/app.bin</c> of <paramref name="sizeBytes"/>. Returns its path.
    /// </summary>
    public static string BuildReleaseTarball(string version, string dir, int sizeBytes = 5_000_000)
    {
        var staging = Path.Combine(dir, $"src-{version}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(staging, "lib"));
        try
        {
            File.WriteAllText(Path.Combine(staging, "VERSION"), version + "\n");
            var blob = new byte[sizeBytes];
            Random.Shared.NextBytes(blob);
            File.WriteAllBytes(Path.Combine(staging, "lib", "app.bin"), blob);
            var output = Path.Combine(dir, $"app-{version}.tar.gz");
            var tar = ProcessRunner.Run("/usr/bin/tar", ["-C", staging, "-czf", output, "."]);
            if (tar.ExitCode != 0)
                throw new InvalidOperationException($"tar failed: {tar.StdErr}");
            return output;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private string SshdConfig(SimulatedHost host) => $"""
        # sshd for simulated host {host.Name}: loopback only, own host key, key auth only, no PAM
        Port {host.SshPort}
        ListenAddress 127.0.0.1
        ListenAddress {host.Address}
        AddressFamily inet
        HostKey {host.Root}/ssh_host_ed25519_key
        PidFile {host.Root}/run/sshd.pid
        AuthorizedKeysFile {AuthorizedKeysPath}
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PrintMotd no
        PrintLastLog no
        UseDNS no
        X11Forwarding no
        AllowAgentForwarding no
        AllowTcpForwarding no
        MaxSessions 50
        MaxStartups 50:30:100
        LogLevel INFO
        # SHLVL=1: Debian's bash then skips ~/.bashrc for ssh commands (root's runs 'pyenv init', ~0.25 s).
        SetEnv SHLVL=1 "HOST_ROOT={host.Root}" HOST_NAME={host.Name} APP_PORT={host.AppPort}

        """;

    private static string ServiceScript(SimulatedHost host) => $$"""
        #!/bin/sh
        # "service manager" of simulated host {{host.Name}}: python http.server on {{host.Address}}:{{host.AppPort}} serving current/
        D='{{host.Root}}'; PORT={{host.AppPort}}; PIDF="$D/run/svc.pid"
        # alive: exists and is not a zombie (an orphan may wait a while for PID 1 to reap it)
        alive() { st=$(sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]; }
        stop() {
          [ -f "$PIDF" ] || return 0
          p=$(cat "$PIDF")
          if kill "$p" 2>/dev/null; then n=0; while alive "$p" && [ $n -lt 250 ]; do sleep 0.02; n=$((n+1)); done; fi
          rm -f "$PIDF"
        }
        start() {
          setsid {{Python}} -m http.server --bind {{host.Address}} --directory "$D/current" "$PORT" >>"$D/log/svc.log" 2>&1 </dev/null &
          echo $! > "$PIDF"
          p=$!; n=0   # readiness: wait until it answers (max ~15 s: python starts slowly on a loaded 2-core CI machine)
          until curl -fs -o /dev/null "http://{{host.Address}}:$PORT/VERSION"; do
            alive "$p" || { echo "svc {{host.Name}} exited: $(tail -n 5 "$D/log/svc.log")" >&2; exit 1; }
            n=$((n+1)); [ $n -lt 750 ] || { echo "svc {{host.Name}} not ready after 15 s: $(tail -n 5 "$D/log/svc.log")" >&2; exit 1; }
            sleep 0.02
          done
        }
        case "${1:-restart}" in
          start) start;; stop) stop;; restart) stop; start;;
          status) [ -f "$PIDF" ] && alive "$(cat "$PIDF")";;
          *) echo "usage: svc.sh start|stop|restart|status" >&2; exit 2;;
        esac

        """;

    private string HaproxyConfig(int frontendPort)
    {
        var sb = new StringBuilder($"""
            global
                stats socket {RuntimeSocket} mode 600 level admin
                maxconn 4096
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend fe_app
                bind 127.0.0.1:{frontendPort}
                default_backend {Backend}
            backend {Backend}
                balance roundrobin
                option httpchk GET /VERSION
                default-server check inter 200ms fastinter 100ms downinter 200ms rise 1 fall 2

            """);
        foreach (var h in _hosts)
            sb.Append($"    server {h.Name} {h.Address}:{h.AppPort}\n");
        return sb.ToString();
    }

    private static void StopProcess(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                // The tree: an sshd listener's children are its live sessions and what they run.
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    /// <summary>Stops a service by its pidfile, after checking the PID still is that service (PIDs wrap).</summary>
    private static void StopService(SimulatedHost host)
    {
        try
        {
            if (!File.Exists(host.ServicePidFile) || !int.TryParse(File.ReadAllText(host.ServicePidFile).Trim(), out var pid))
                return;
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            if (!cmdline.Contains("http.server") || !cmdline.Contains(host.Root))
                return;
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(5000);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Already gone.
        }
    }

    private static string Tail(string path)
    {
        try
        {
            return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(20)) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            if (host.Sshd is { } sshd)
                StopProcess(sshd);
            host.Sshd = null;
        }
        foreach (var host in _hosts)
            StopService(host);
        if (_haproxy is { } haproxy)
            StopProcess(haproxy);
        _haproxy = null;
        _haproxyLog?.Dispose();
        _haproxyLog = null;
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
