using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Slipway.Agent.Execution.Rollout;
using Slipway.Testing;
using Slipway.Testing.Fleet;
using Xunit.Abstractions;

namespace Slipway.Agent.Tests.Rollout;

/// <summary>The SSH client against real sshd processes of a simulated fleet (h3's sshd is stopped by one test).</summary>
public sealed class SshTargetConnectionTests(ThreeHostFleet fixture, ITestOutputHelper output) : IClassFixture<ThreeHostFleet>
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(20);
    private SimulatedFleet Fleet => fixture.Fleet;

    private SshEndpoint Endpoint(SimulatedHost host, string? fingerprint = "pinned") =>
        new("127.0.0.1", host.SshPort, Fleet.User, fingerprint == "pinned" ? host.Fingerprint : fingerprint);

    private Task<SshTargetConnection> ConnectAsync(SimulatedHost host, string? privateKey = null, string? passphrase = null) =>
        SshTargetConnection.ConnectAsync(Endpoint(host), new SshCredentials(privateKey ?? Fleet.ClientPrivateKey, passphrase), ConnectTimeout, CancellationToken.None);

    private static async Task<(int Exit, List<string> Lines)> RunAsync(SshTargetConnection connection, string script,
        IReadOnlyDictionary<string, string>? variables = null)
    {
        var lines = new List<string>();
        var exit = await connection.RunAsync(script, variables ?? new Dictionary<string, string>(),
            line => { lock (lines) lines.Add(line); return Task.CompletedTask; }, RunTimeout, CancellationToken.None);
        return (exit, lines);
    }

    private static int CountAccepted(SimulatedHost host) =>
        File.Exists(host.SshdLog) ? File.ReadLines(host.SshdLog).Count(l => l.Contains("Accepted publickey")) : 0;

    [Fact]
    public async Task VariableValues_WithShellMetacharacters_ArriveVerbatim_AndNothingInThemIsExecuted()
    {
        var host = Fleet.Hosts[0];
        var marker = Path.Combine(Fleet.Root, $"pwned-{Guid.NewGuid():N}");
        var values = new Dictionary<string, string>
        {
            ["SUBST"] = $"$(touch {marker})",
            ["BACKTICK"] = $"`touch {marker}`",
            ["QUOTES"] = "it's a \"quoted\" 'value'",
            ["SEMI"] = $"a; touch {marker}; b",
            ["SPACES"] = "  leading and trailing spaces  ",
            ["BACKSLASH"] = @"C:\path\n\ and a trailing backslash \",
            ["VARS"] = "$HOME ${PATH} $1 $$ * ? [a] ~ > < | & !",
            ["EMPTY"] = "",
            ["UNICODE"] = "ünïcødé ✓ \t tab \r cr",
        };
        await using var connection = await ConnectAsync(host);
        // Each value as hex of its bytes: exact, and immune to the line splitting of the output (which also breaks at '\r').
        var script = string.Join("\n", values.Keys.Select(k => $"printf '%s=' {k}; printf '%s' \"${k}\" | od -An -tx1 | tr -d ' \\n'; echo"));
        var (exit, lines) = await RunAsync(connection, script, values);

        Assert.Equal(0, exit);
        Assert.Equal(values.Select(kv => $"{kv.Key}={Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(kv.Value))}"), lines);
        Assert.False(File.Exists(marker), "a value was executed by a shell");
    }

    [Fact]
    public async Task ExitCode_Propagates_StdoutAndStderrStreamAsTheyCome_AndHostRootIsSet()
    {
        var host = Fleet.Hosts[0];
        await using var connection = await ConnectAsync(host);
        var watch = Stopwatch.StartNew();
        TimeSpan? firstAt = null;
        var lines = new List<string>();
        var exit = await connection.RunAsync("echo \"root=$HOST_ROOT\"; echo oops >&2; sleep 1; echo second; exit 7",
            new Dictionary<string, string>(),
            line =>
            {
                lock (lines)
                {
                    firstAt ??= watch.Elapsed;
                    lines.Add(line);
                }
                return Task.CompletedTask;
            }, RunTimeout, CancellationToken.None);

        Assert.Equal(7, exit);
        Assert.Contains($"root={host.Root}", lines);
        Assert.Contains("oops", lines);
        Assert.Equal("second", lines[^1]);
        Assert.True(firstAt < TimeSpan.FromMilliseconds(800), $"the first line came after {firstAt}: output is not streamed");
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AScriptThatReadsStdin_GetsEndOfInput_AndCannotSwallowTheRestOfTheScript()
    {
        await using var connection = await ConnectAsync(Fleet.Hosts[0]);
        var (exit, lines) = await RunAsync(connection, "cat; read -r x || echo \"eof\"\necho after", new Dictionary<string, string> { ["A"] = "1" });
        Assert.Equal(0, exit);
        Assert.Equal(["eof", "after"], lines);
    }

    [Fact]
    public async Task OneConnection_RunsManySteps_InSequenceAndConcurrently()
    {
        await using var connection = await ConnectAsync(Fleet.Hosts[1]);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
            Assert.Equal(i, (await RunAsync(connection, $"exit {i}")).Exit);
        output.WriteLine($"10 sequential runs on one connection: {watch.ElapsedMilliseconds} ms");
        var parallel = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => RunAsync(connection, "echo \"$N\"", new Dictionary<string, string> { ["N"] = $"{i}" })));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{i}"), parallel.Select(p => Assert.Single(p.Lines)));
    }

    [Fact]
    public async Task Upload_OfFiveMegabytes_ArrivesByteIdentical_InIncoming_OverTheSameConnection()
    {
        var host = Fleet.Hosts[0];
        using var local = new TempDirectory("slw-upload");
        var tarball = SimulatedFleet.BuildReleaseTarball("v-up", local.Path);
        var watch = Stopwatch.StartNew();
        await using var connection = await ConnectAsync(host);
        var connectMs = watch.ElapsedMilliseconds;
        var accepted = CountAccepted(host);
        watch.Restart();
        await connection.UploadAsync(tarball, host.Incoming + "/", CancellationToken.None);
        var uploadMs = watch.ElapsedMilliseconds;
        output.WriteLine($"connect+auth {connectMs} ms; upload {new FileInfo(tarball).Length} bytes {uploadMs} ms");

        var remote = Path.Combine(host.Incoming, "app-v-up.tar.gz");
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(tarball))), Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(remote))));
        // The same connection then unpacks it: no second login.
        var (exit, lines) = await RunAsync(connection, "tar -xOzf \"$T\" ./VERSION", new Dictionary<string, string> { ["T"] = remote });
        Assert.Equal(0, exit);
        Assert.Equal(["v-up"], lines);
        Assert.Equal(accepted, CountAccepted(host));
    }

    [Fact]
    public async Task Upload_ToAMissingDirectory_FailsNamingThePath()
    {
        var host = Fleet.Hosts[0];
        using var local = new TempDirectory("slw-upload");
        var file = Path.Combine(local.Path, "small.txt");
        File.WriteAllText(file, "hello");
        await using var connection = await ConnectAsync(host);
        var target = Path.Combine(host.Root, "no-such-dir", "x.txt");
        var ex = await Assert.ThrowsAsync<SshTargetException>(() => connection.UploadAsync(file, target, CancellationToken.None));
        Assert.Contains(target, ex.Message);
        Assert.False(Directory.Exists(Path.Combine(host.Root, "no-such-dir")));
    }

    [Fact]
    public async Task NoPinnedKey_IsRefusedBeforeAuthentication()
    {
        var host = Fleet.Hosts[1];
        var accepted = CountAccepted(host);
        var ex = await Assert.ThrowsAsync<HostKeyMismatchException>(() => SshTargetConnection.ConnectAsync(
            Endpoint(host, fingerprint: null), new SshCredentials(Fleet.ClientPrivateKey, null), ConnectTimeout, CancellationToken.None));
        Assert.Contains("no host key pinned", ex.Message);
        Assert.Contains(host.Fingerprint, ex.Message);
        Assert.Equal(host.Fingerprint, ex.Actual);
        Assert.Equal(accepted, CountAccepted(host));
    }

    [Fact]
    public async Task AnotherHostsFingerprint_IsRefused_NamingBothFingerprints()
    {
        var host = Fleet.Hosts[1];
        var wrong = Fleet.Hosts[0].Fingerprint;
        Assert.NotEqual(wrong, host.Fingerprint);
        var accepted = CountAccepted(host);
        var ex = await Assert.ThrowsAsync<HostKeyMismatchException>(() => SshTargetConnection.ConnectAsync(
            Endpoint(host, wrong), new SshCredentials(Fleet.ClientPrivateKey, null), ConnectTimeout, CancellationToken.None));
        Assert.Contains(wrong, ex.Message);
        Assert.Contains(host.Fingerprint, ex.Message);
        Assert.Equal(accepted, CountAccepted(host));
    }

    [Fact]
    public async Task AnUnauthorizedClientKey_FailsAuthentication_WithoutKeyMaterialInTheMessage()
    {
        var stranger = await Fleet.CreateClientKeyAsync(authorize: false);
        var ex = await Assert.ThrowsAsync<SshTargetException>(() => ConnectAsync(Fleet.Hosts[0], stranger));
        Assert.Contains($"127.0.0.1:{Fleet.Hosts[0].SshPort}", ex.Message);
        Assert.Contains("authentication", ex.Message);
        AssertNoKeyMaterial(ex, stranger);
    }

    [Fact]
    public async Task KeyText_ThatIsNoKey_IsRefused_WithoutEchoingIt()
    {
        const string garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END OPENSSH PRIVATE KEY-----\n";
        var ex = await Assert.ThrowsAsync<SshTargetException>(() => ConnectAsync(Fleet.Hosts[0], garbage));
        Assert.Contains("private key could not be read", ex.Message);
        AssertNoKeyMaterial(ex, garbage);
    }

    [Fact]
    public async Task APassphraseProtectedEd25519Key_Works_AndAWrongOrMissingPassphraseIsAClearError()
    {
        var key = await Fleet.CreateClientKeyAsync(passphrase: "correct horse battery");
        await using (var connection = await ConnectAsync(Fleet.Hosts[0], key, "correct horse battery"))
            Assert.Equal(0, (await RunAsync(connection, "true")).Exit);

        var wrong = await Assert.ThrowsAsync<SshTargetException>(() => ConnectAsync(Fleet.Hosts[0], key, "wrong"));
        Assert.Contains("private key", wrong.Message);
        AssertNoKeyMaterial(wrong, key);
        Assert.DoesNotContain("correct horse", wrong.ToString());
        var missing = await Assert.ThrowsAsync<SshTargetException>(() => ConnectAsync(Fleet.Hosts[0], key));
        Assert.Contains("passphrase", missing.Message);
    }

    [Theory]
    [InlineData("rsa", null)]
    [InlineData("rsa-pem", null)]
    [InlineData("rsa", "rsa passphrase")]
    public async Task RsaKeys_Work(string type, string? passphrase)
    {
        var key = await Fleet.CreateClientKeyAsync(passphrase, type);
        await using var connection = await ConnectAsync(Fleet.Hosts[0], key, passphrase);
        Assert.Equal(0, (await RunAsync(connection, "true")).Exit);
    }

    [Fact]
    public async Task AStoppedSshd_OrAPortNobodyListensOn_IsUnreachable_Quickly()
    {
        var host = Fleet.Hosts[2];
        var stoppedPort = host.SshPort;
        await Fleet.StopSshdAsync(host);
        foreach (var port in new[] { stoppedPort, FreePort.Get() })
        {
            var watch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<SshTargetException>(() => SshTargetConnection.ConnectAsync(
                new SshEndpoint("127.0.0.1", port, Fleet.User, host.Fingerprint), new SshCredentials(Fleet.ClientPrivateKey, null),
                TimeSpan.FromSeconds(3), CancellationToken.None));
            Assert.Contains($"127.0.0.1:{port}", ex.Message);
            Assert.Contains("refused", ex.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        }
    }

    [Fact]
    public async Task AConnectionLost_DuringOrBeforeARun_IsAnSshTargetException_NotAnExitCode()
    {
        var host = Fleet.Hosts[2];
        await Fleet.StartSshdAsync(host);
        await using var connection = await ConnectAsync(host);
        var running = connection.RunAsync("sleep 39.5", new Dictionary<string, string>(), _ => Task.CompletedTask, RunTimeout, CancellationToken.None);
        await Task.Delay(500);
        await Fleet.StopSshdAsync(host); // kills the listener and its sessions
        var during = await Assert.ThrowsAsync<SshTargetException>(() => running);
        Assert.Contains($"127.0.0.1:{host.SshPort}", during.Message);
        var after = await Assert.ThrowsAsync<SshTargetException>(() => RunAsync(connection, "true"));
        Assert.Contains($"127.0.0.1:{host.SshPort}", after.Message);
    }

    [Fact]
    public async Task AHostThatAcceptsButNeverSpeaks_TimesOut_WithinTheConnectTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // never accepts: the kernel completes the handshake, nobody ever answers
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<SshTargetException>(() => SshTargetConnection.ConnectAsync(
            new SshEndpoint("127.0.0.1", port, Fleet.User, Fleet.Hosts[0].Fingerprint), new SshCredentials(Fleet.ClientPrivateKey, null),
            TimeSpan.FromSeconds(1), CancellationToken.None));
        output.WriteLine($"silent host gave up after {watch.ElapsedMilliseconds} ms: {ex.Message}");
        Assert.Contains($"127.0.0.1:{port}", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task ATimedOutScript_IsKilledWithItsChildren_AndTheConnectionStaysUsable()
    {
        await using var connection = await ConnectAsync(Fleet.Hosts[0]);
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutException>(() => connection.RunAsync("sleep 37.125 & sleep 37.125; echo never", new Dictionary<string, string>(),
            _ => Task.CompletedTask, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        await WaitUntil(() => !SleepersAlive("37.125"), "the script's sleeps were not killed");
        Assert.Equal(0, (await RunAsync(connection, "true")).Exit);
    }

    [Fact]
    public async Task ACancelledScript_ThrowsOperationCanceled_AndIsKilled()
    {
        await using var connection = await ConnectAsync(Fleet.Hosts[0]);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.RunAsync("sleep 38.25", new Dictionary<string, string>(),
            _ => Task.CompletedTask, TimeSpan.FromSeconds(30), cts.Token));
        await WaitUntil(() => !SleepersAlive("38.25"), "the cancelled script's sleep was not killed");
    }

    [Theory]
    [InlineData("lower", "x")]
    [InlineData("1ABC", "x")]
    [InlineData("A-B", "x")]
    [InlineData("A", "line\nbreak")]
    [InlineData("A", "nul\0byte")]
    public async Task BadVariableNamesOrValues_AreRejected_BeforeAnythingRuns(string name, string value)
    {
        await using var connection = await ConnectAsync(Fleet.Hosts[0]);
        await Assert.ThrowsAsync<ArgumentException>(() => connection.RunAsync("true", new Dictionary<string, string> { [name] = value },
            _ => Task.CompletedTask, RunTimeout, CancellationToken.None));
    }

    [Fact]
    public async Task TheScanner_ReadsTheHostKeyFingerprint_AsSshKeygenPrintsIt()
    {
        var host = Fleet.Hosts[1];
        var accepted = CountAccepted(host);
        var (fingerprint, type) = await SshHostKeyScanner.ScanAsync("127.0.0.1", host.SshPort, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(host.Fingerprint, fingerprint);
        Assert.Equal("ssh-ed25519", type);
        Assert.Equal(accepted, CountAccepted(host));
    }

    [Fact]
    public async Task ConnectAndAuth_Timing()
    {
        var samples = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            await using var connection = await ConnectAsync(Fleet.Hosts[1]);
            samples.Add(watch.ElapsedMilliseconds);
        }
        samples.Sort();
        output.WriteLine($"connect+auth ms: {string.Join(", ", samples)} (median {samples[2]}); fleet of 3 started in {Fleet.StartupTime.TotalMilliseconds:0} ms");
    }

    private static void AssertNoKeyMaterial(Exception ex, string key)
    {
        var text = ex.ToString();
        Assert.DoesNotContain("PRIVATE KEY", text);
        foreach (var line in key.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("-----") && l.Length >= 16))
            Assert.DoesNotContain(line[..16], text);
    }

    private static bool SleepersAlive(string argument) =>
        Directory.EnumerateDirectories("/proc").Any(d =>
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ').Trim();
                return cmdline == $"sleep {argument}" && !File.ReadAllText(Path.Combine(d, "stat")).Contains(") Z ");
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });

    private static async Task WaitUntil(Func<bool> condition, string message)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), message);
            await Task.Delay(50);
        }
    }
}
