using System.Diagnostics;
using System.Net.Sockets;
using Amazon.S3;

namespace Slipway.Testing;

/// <summary>
/// A real S3-compatible server for tests: s3rver (npm, installed by test.sh) on 127.0.0.1 and a free port, storing in
/// its own temp folder, with one bucket. Stopped on dispose by the id of the process this started, and no other.
/// Tests share one and keep apart by key prefix (<see cref="NewPrefix"/>).
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Region = "us-east-1";

    private readonly TempDirectory _root;
    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private S3Server(TempDirectory root, Process process, int port, string bucket)
    {
        _root = root;
        _process = process;
        Port = port;
        Bucket = bucket;
    }

    public int Port { get; }
    public string Bucket { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>s3rver's storage folder: one subfolder per bucket.</summary>
    public string DataDirectory => _root.Path;

    public static async Task<S3Server> StartAsync(string bucket = "slipway-test")
    {
        var executable = Find();
        var root = new TempDirectory("slipway-s3");
        Exception? last = null;
        // The free port can be taken between probing and binding: a few tries.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Get();
            var psi = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            foreach (var a in new[] { "-d", root.Path, "-a", "127.0.0.1", "-p", port.ToString(), "--configure-bucket", bucket })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start s3rver");
            var server = new S3Server(root, process, port, bucket);
            // It logs every request: keep draining both pipes (a full pipe would stall it), keeping the tail for errors.
            process.OutputDataReceived += (_, e) => server.Keep(e.Data);
            process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            try
            {
                await server.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(20));
                return server;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                last = e;
                server.Stop();
            }
        }
        root.Dispose();
        throw last!;
    }

    /// <summary>s3rver from SLIPWAY_TEST_S3RVER or the PATH (npm install -g puts it there).</summary>
    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("SLIPWAY_TEST_S3RVER") is { Length: > 0 } configured) return configured;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "s3rver");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            "s3rver (an S3-compatible test server) is not installed. Run ./test.sh from the repository root (it installs it), " +
            "or install it with: npm install -g --no-audit --no-fund s3rver@3.7.1");
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} on port {Port}:\n{Tail()}");
            try
            {
                // The bucket answers (an empty listing) once s3rver has configured it.
                var response = await http.GetAsync($"{Endpoint}/{Bucket}");
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"s3rver did not answer on {Endpoint} within {timeout.TotalSeconds:0} s:\n{Tail()}");
    }

    private int _partsStored;

    /// <summary>Multipart parts stored so far (s3rver logs each one), to tell a multipart upload from a single put.</summary>
    public int PartsStored => Volatile.Read(ref _partsStored);

    private void Keep(string? line)
    {
        if (line is null) return;
        if (line.Contains("Stored part ", StringComparison.Ordinal)) Interlocked.Increment(ref _partsStored);
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > 40) _output.Dequeue();
        }
    }

    private string Tail()
    {
        lock (_output) return string.Join('\n', _output);
    }

    /// <summary>A fresh key prefix, so that tests sharing this server never see each other's objects.</summary>
    public static string NewPrefix() => "t-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Points <paramref name="options"/> at this server's bucket under <paramref name="prefix"/>, with its credentials.</summary>
    public void Configure(ServerOptions options, string prefix)
    {
        options.Blobs = $"s3://{Bucket}/{prefix}";
        options.S3Endpoint = Endpoint;
        options.S3Region = Region;
        options.S3AccessKey = AccessKey;
        options.S3SecretKey = SecretKey;
        options.S3SessionToken = null;
        options.S3PathStyle = true;
    }

    /// <summary>A plain client, to look at or change the bucket behind Slipway's back (settings as in S3BlobStore).</summary>
    public AmazonS3Client CreateClient() => new(new Amazon.Runtime.BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        AuthenticationRegion = Region,
        ForcePathStyle = true,
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        _root.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// xunit collection fixture: one s3rver per test collection. Use with
/// <c>[CollectionDefinition("s3rver")] public class S3Collection : ICollectionFixture&lt;S3ServerFixture&gt;;</c>.
/// </summary>
public sealed class S3ServerFixture : Xunit.IAsyncLifetime
{
    private S3Server? _server;

    public S3Server Server => _server ?? throw new InvalidOperationException("S3ServerFixture is not initialized");

    public async Task InitializeAsync() => _server = await S3Server.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
