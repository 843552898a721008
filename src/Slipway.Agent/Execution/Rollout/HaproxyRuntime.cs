using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// One server row of HAProxy's <c>show stat</c>. <paramref name="Status"/> is verbatim: UP, DOWN, MAINT, DRAIN, NOLB, "no check", "UP 1/3"...
/// Also the shape every <see cref="ILoadBalancer"/> reports a backend's servers in (a script balancer's status is UP, DOWN, MAINT or DRAIN).
/// </summary>
public sealed record HaproxyServerStat(string Backend, string Server, string Status, int CurrentSessions);

/// <summary>The runtime API could not be used: refused, timed out, or an answer that is an error or not understood.</summary>
public sealed class HaproxyRuntimeException : LoadBalancerException
{
    public HaproxyRuntimeException(string message) : base(message) { }
    public HaproxyRuntimeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// HAProxy's runtime API (the admin <c>stats socket</c>) at <paramref name="address"/>: a unix socket path
/// ("/run/haproxy/admin.sock") or "host:port" for an <c>ipv4@</c> socket. One command per connection, in
/// non-interactive mode: HAProxy answers and closes. Every exchange is bounded by <see cref="Timeout"/> (5 s by default).
/// Thread-safe. A big batch drains many servers at once, and HAProxy's stats socket takes only a few connections at a
/// time (its listen backlog and <c>stats maxconn</c>, 10 by default): at most <see cref="MaxConcurrentPerAddress"/>
/// exchanges run at once per address, and a connection turned away for being one too many (EAGAIN on a full unix-socket
/// backlog) is tried again within the timeout. Only the connect is retried: nothing was sent yet.
/// </summary>
public sealed partial class HaproxyRuntime : ILoadBalancer
{
    /// <summary>Default bound of one whole exchange (connect, send, read to the end).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public HaproxyRuntime(string address) : this(address, DefaultTimeout) { }

    public HaproxyRuntime(string address, TimeSpan timeout)
    {
        Address = address ?? throw new ArgumentNullException(nameof(address));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        Timeout = timeout;
    }

    public string Address { get; }
    public TimeSpan Timeout { get; }

    /// <summary>Exchanges at once per runtime API address, below HAProxy's default <c>stats maxconn</c> of 10.</summary>
    public const int MaxConcurrentPerAddress = 4;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <summary>Largest answer read; <c>show stat</c> of a few hundred servers is well below.</summary>
    private const int MaxAnswerBytes = 16 << 20;

    private static readonly string[] States = ["ready", "drain", "maint"];

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex ProxyOrServerName();

    /// <summary>Sends one command line and returns the whole answer. The command must not contain ';' or a line break.</summary>
    public async Task<string> SendAsync(string command, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        if (command.IndexOfAny([';', '\n', '\r', '\0']) >= 0)
            throw new ArgumentException("A runtime API command must be one command: no ';', line break or NUL", nameof(command));

        using var deadline = new CancellationTokenSource(Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var verb = command.Split(' ', 2)[0];
        var gate = Gates.GetOrAdd(Address, _ => new SemaphoreSlim(MaxConcurrentPerAddress));
        var entered = false;
        try
        {
            await gate.WaitAsync(linked.Token);
            entered = true;
            using var socket = await ConnectWithRetryAsync(linked.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None, linked.Token);
            using var answer = new MemoryStream();
            var buffer = new byte[16 << 10];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token)) > 0)
            {
                answer.Write(buffer, 0, n);
                if (answer.Length > MaxAnswerBytes)
                    throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: the answer to '{verb}' exceeds {MaxAnswerBytes} bytes");
            }
            return Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: no complete answer to '{verb}' within {Timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException ex)
        {
            throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: {ex.SocketErrorCode} ({ex.Message})", ex);
        }
        finally
        {
            if (entered) gate.Release();
        }
    }

    /// <summary>Connects, trying again while HAProxy turns the connection away for being one too many (until the deadline).</summary>
    private async Task<Socket> ConnectWithRetryAsync(CancellationToken ct)
    {
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try { return await ConnectAsync(ct); }
            // EAGAIN: the unix socket's backlog is full (a refused TCP port or a missing listener is not retried: it is not busy, it is wrong).
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain && !ct.IsCancellationRequested)
            {
                await Task.Delay(pause, ct);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 250));
            }
        }
    }

    private async Task<Socket> ConnectAsync(CancellationToken ct)
    {
        EndPoint endpoint;
        Socket socket;
        if (Address.StartsWith('/'))
        {
            if (!File.Exists(Address))
                throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: no socket at this path (is HAProxy running, with 'stats socket ... level admin'?)");
            endpoint = new UnixDomainSocketEndPoint(Address);
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        }
        else
        {
            var colon = Address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(Address.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
                throw new HaproxyRuntimeException($"HAProxy runtime API address '{Address}' is neither an absolute socket path nor host:port");
            var host = Address[..colon].Trim('[', ']');
            endpoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        }
        try
        {
            await socket.ConnectAsync(endpoint, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>set server BACKEND/SERVER state ready|drain|maint</c>. HAProxy answers nothing on success; any text
    /// (e.g. "No such server.") is an error.
    /// </summary>
    public async Task SetStateAsync(string backend, string server, string state, CancellationToken ct)
    {
        CheckName(backend, nameof(backend));
        CheckName(server, nameof(server));
        if (!States.Contains(state))
            throw new ArgumentException($"State '{state}' is not one of {string.Join(", ", States)}", nameof(state));
        var answer = (await SendAsync($"set server {backend}/{server} state {state}", ct)).Trim();
        if (answer.Length > 0)
            throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: setting {backend}/{server} to {state} failed: {Shorten(answer)}");
    }

    /// <summary>The server rows of <c>show stat</c> (frontends and backend totals left out).</summary>
    public async Task<IReadOnlyList<HaproxyServerStat>> ShowStatAsync(CancellationToken ct)
    {
        var answer = await SendAsync("show stat", ct);
        try
        {
            return HaproxyStatCsv.Parse(answer);
        }
        catch (FormatException ex)
        {
            throw new HaproxyRuntimeException($"HAProxy runtime API at {Address}: 'show stat' answer not understood: {ex.Message}", ex);
        }
    }

    /// <summary>The server rows of <paramref name="backend"/> in <c>show stat</c>.</summary>
    public async Task<IReadOnlyList<HaproxyServerStat>> ShowBackendAsync(string backend, CancellationToken ct) =>
        (await ShowStatAsync(ct)).Where(s => s.Backend == backend).ToList();

    /// <summary>A runtime-API exchange is cheap: waits ask every 100 ms.</summary>
    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(100);

    /// <summary>Backend and server names are held to HAProxy's alphabet, whichever kind of balancer they reach.</summary>
    internal static void CheckName(string name, string parameter)
    {
        if (string.IsNullOrEmpty(name) || !ProxyOrServerName().IsMatch(name))
            throw new ArgumentException($"'{name}' is not a valid HAProxy backend or server name (^[A-Za-z0-9._:-]+$)", parameter);
    }

    internal static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}

/// <summary>Parses the CSV of <c>show stat</c> (HAProxy management guide, section 9.1) by header names.</summary>
public static class HaproxyStatCsv
{
    /// <exception cref="FormatException">No "# pxname,svname,..." header, a missing column, a row of the wrong width, a bad number.</exception>
    public static IReadOnlyList<HaproxyServerStat> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var headerIndex = Array.FindIndex(lines, l => l.Length > 0);
        if (headerIndex < 0)
            throw new FormatException("empty answer");
        var header = lines[headerIndex];
        if (!header.StartsWith("# ", StringComparison.Ordinal))
            throw new FormatException($"expected a '# pxname,svname,...' header, got '{HaproxyRuntime.Shorten(header)}'");
        var columns = header[2..].TrimEnd(',').Split(',');
        int Column(string name)
        {
            var i = Array.IndexOf(columns, name);
            return i >= 0 ? i : throw new FormatException($"the header has no '{name}' column");
        }
        int px = Column("pxname"), sv = Column("svname"), scur = Column("scur"), status = Column("status");

        var rows = new List<HaproxyServerStat>();
        for (var i = headerIndex + 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
                continue;
            var fields = line.Split(',');
            // Rows end with a ',' like the header; fewer fields than named columns means a truncated or foreign line.
            if (fields.Length < columns.Length)
                throw new FormatException($"line {i + 1} has {fields.Length} fields, the header {columns.Length}");
            if (fields[sv] is "FRONTEND" or "BACKEND")
                continue;
            var sessions = 0;
            if (fields[scur].Length > 0 && !int.TryParse(fields[scur], out sessions))
                throw new FormatException($"line {i + 1}: scur '{HaproxyRuntime.Shorten(fields[scur])}' is not a number");
            rows.Add(new HaproxyServerStat(fields[px], fields[sv], fields[status], sessions));
        }
        return rows;
    }
}
