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
    [InlineData("/srv/blobs")]
    public void BadBlobsValue_IsRefusedWithTheReason(string value)
    {
        var error = Assert.Throws<BlobStoreException>(() => BlobStores.FromOptions(new ServerOptions { Blobs = value }));
        Assert.Contains("--blobs", error.Message);
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
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try { while (true) accepted.Add(await listener.AcceptSocketAsync(stop.Token)); }
            catch (OperationCanceledException) { }
        });
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var options = new ServerOptions
        {
            Blobs = "s3://bucket/p", S3Endpoint = $"http://127.0.0.1:{port}", S3AccessKey = "AKIDEXAMPLE", S3SecretKey = "not-to-be-seen",
            S3RequestTimeout = TimeSpan.FromSeconds(1),
        };
        using var store = (S3BlobStore)BlobStores.FromOptions(options);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BlobStoreException>(() => store.CheckAsync(default));

        Assert.Contains("s3://bucket/p/slipway-probe/", error.Message);
        Assert.Contains("no answer within 1 s (SLIPWAY_S3_TIMEOUT_SECONDS) at each of the SDK's attempts", error.Message);
        Assert.DoesNotContain("not-to-be-seen", error.ToString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"failed after {watch.Elapsed.TotalSeconds:0.0} s"); // the SDK's 100 s without it
        Assert.NotEmpty(accepted);
        stop.Cancel();
        await accepting;
        foreach (var socket in accepted) socket.Dispose();
    }

    [Fact]
    public void DefaultEndpoint_IsAwsForTheRegion()
    {
        var options = new ServerOptions { Blobs = "s3://bucket/p", S3Endpoint = null, S3Region = "eu-west-1", S3AccessKey = "a", S3SecretKey = "b" };
        using var store = (S3BlobStore)BlobStores.FromOptions(options);
        Assert.Equal("s3://bucket/p at AWS eu-west-1", store.Description);
    }
}
