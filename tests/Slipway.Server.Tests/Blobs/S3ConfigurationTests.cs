using Slipway.Testing;

namespace Slipway.Server.Tests.Blobs;

/// <summary>Reading --blobs and the S3 settings: refused values fail before any request, and never echo a secret.</summary>
public sealed class S3ConfigurationTests
{
    [Theory]
    [InlineData("s3://")]
    [InlineData("s3://UPPER/x")]
    [InlineData("s3://ab")]
    [InlineData("s3://bucket/a//b")]
    [InlineData("s3://bucket/../x")]
    [InlineData("s3://bucket/Prefix")]
    [InlineData("ftp://bucket/x")]
    [InlineData("srv/blobs")] // a directory must be absolute: relative to what would differ between nodes
    public void BadBlobsValue_IsRefusedWithTheReason(string value)
    {
        var error = Assert.Throws<BlobStoreException>(() => BlobStores.FromOptions(new ServerOptions { Blobs = value }));
        Assert.Contains("--blobs", error.Message);
    }

    [Fact]
    public void AnAbsoluteDirectory_IsALocalBlobStoreThere()
    {
        var store = BlobStores.FromOptions(new ServerOptions { Blobs = "/srv/slipway-blobs/" });
        Assert.Equal("local /srv/slipway-blobs/", store.Description);
    }

    [Theory]
    [InlineData("s3://my-bucket", "my-bucket", "", "objects/x")]
    [InlineData("s3://my.bucket/slipway/", "my.bucket", "slipway", "slipway/objects/x")]
    [InlineData("s3://b12/a/b", "b12", "a/b", "a/b/objects/x")]
    public void Location_IsBucketAndOptionalPrefix(string value, string bucket, string prefix, string objectKey)
    {
        var location = S3Location.Parse(value);
        Assert.Equal((bucket, prefix, objectKey), (location.Bucket, location.Prefix, location.ObjectKey("objects/x")));
    }

    [Fact]
    public void EndpointWithCredentialsInIt_IsRefused_WithoutRepeatingThem()
    {
        var options = new ServerOptions { Blobs = "s3://bucket", S3Endpoint = "http://user:hunter2@127.0.0.1:9000" };
        var error = Assert.Throws<BlobStoreException>(() => BlobStores.FromOptions(options));
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task UnreachableEndpoint_FailsTheCheck_NamingIt()
    {
        var port = FreePort.Get(); // nobody listens there
        var options = new ServerOptions
        {
            Blobs = "s3://bucket/p", S3Endpoint = $"http://127.0.0.1:{port}", S3AccessKey = "AKIDEXAMPLE", S3SecretKey = "not-to-be-seen",
        };
        using var store = (S3BlobStore)BlobStores.FromOptions(options);

        var error = await Assert.ThrowsAsync<BlobStoreException>(() => store.CheckAsync(default));

        Assert.Contains($"s3://bucket/p at http://127.0.0.1:{port}", error.Message);
        Assert.DoesNotContain("not-to-be-seen", error.ToString());
    }

    [Fact]
    public async Task AServerThatAcceptsAndNeverAnswers_FailsWithinTheTimeout_NamingTheBucket()
    {
        // Accepts every connection and reads nothing back: the request hangs until the store's timeout.
        await using var endpoint = MisbehavingS3.Start(answer: null);
        using var store = endpoint.Store();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BlobStoreException>(() => store.CheckAsync(default));

        Assert.Contains("s3://bucket/p/slipway-probe/", error.Message);
        Assert.Contains("no answer within 1 s (SLIPWAY_S3_TIMEOUT_SECONDS) at each of the SDK's attempts", error.Message);
        Assert.DoesNotContain(MisbehavingS3.Secret, error.ToString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"failed after {watch.Elapsed.TotalSeconds:0.0} s"); // the SDK's 100 s without it
        Assert.True(endpoint.Connections > 0);
    }

    [Fact]
    public async Task ADownloadWhoseBodyStalls_FailsWithinTheTimeout_NamingTheKey()
    {
        // The headers of a 100-byte object and its first 10 bytes, then nothing more: the request's timeout has ended with
        // the headers, so only a bound on each read of the body ends the download.
        await using var endpoint = MisbehavingS3.Start(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\nETag: \"0123\"\r\n\r\n0123456789");
        using var store = endpoint.Store();

        await using var download = await store.OpenReadAsync("objects/x");
        Assert.NotNull(download);
        var first = new byte[10];
        await download.ReadExactlyAsync(first);
        Assert.Equal("0123456789"u8.ToArray(), first);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BlobStoreException>(() => download.CopyToAsync(Stream.Null));

        Assert.Contains("could not read s3://bucket/p/objects/x", error.Message);
        Assert.Contains("no bytes for 1 s in the middle of a download (SLIPWAY_S3_TIMEOUT_SECONDS)", error.Message);
        Assert.DoesNotContain(MisbehavingS3.Secret, error.ToString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"failed after {watch.Elapsed.TotalSeconds:0.0} s"); // forever without the bound
    }

    /// <summary>
    /// An S3 endpoint on 127.0.0.1 that misbehaves: it accepts every connection and, after reading a request's headers,
    /// sends <c>answer</c> (null: nothing at all) and then holds the connection open without another byte.
    /// </summary>
    private sealed class MisbehavingS3 : IAsyncDisposable
    {
        public const string Secret = "not-to-be-seen";
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.Socket> _accepted = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _serving = Task.CompletedTask;

        public int Connections => _accepted.Count;

        public static MisbehavingS3 Start(string? answer)
        {
            var endpoint = new MisbehavingS3();
            endpoint._listener.Start();
            endpoint._serving = Task.Run(() => endpoint.ServeAsync(answer));
            return endpoint;
        }

        /// <summary>A store for a bucket at this endpoint, with a 1 s timeout and a secret key no error may show.</summary>
        public S3BlobStore Store() => (S3BlobStore)BlobStores.FromOptions(new ServerOptions
        {
            Blobs = "s3://bucket/p", S3Endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)_listener.LocalEndpoint).Port}",
            S3AccessKey = "AKIDEXAMPLE", S3SecretKey = Secret, S3RequestTimeout = TimeSpan.FromSeconds(1),
        });

        private async Task ServeAsync(string? answer)
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    _accepted.Add(socket);
                    if (answer is null) continue;
                    var request = new List<byte>();
                    var buffer = new byte[4096];
                    while (!System.Text.Encoding.ASCII.GetString(request.ToArray()).Contains("\r\n\r\n"))
                    {
                        var n = await socket.ReceiveAsync(buffer, _stop.Token);
                        if (n == 0) break;
                        request.AddRange(buffer.AsSpan(0, n));
                    }
                    await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(answer), _stop.Token);
                }
            }
            catch (OperationCanceledException) { }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _serving;
            foreach (var socket in _accepted) socket.Dispose();
            _listener.Stop();
            _stop.Dispose();
        }
    }

    [Fact]
    public void DefaultEndpoint_IsAwsForTheRegion()
    {
        var options = new ServerOptions { Blobs = "s3://bucket/p", S3Endpoint = null, S3Region = "eu-west-1", S3AccessKey = "a", S3SecretKey = "b" };
        using var store = (S3BlobStore)BlobStores.FromOptions(options);
        Assert.Equal("s3://bucket/p at AWS eu-west-1", store.Description);
    }
}
