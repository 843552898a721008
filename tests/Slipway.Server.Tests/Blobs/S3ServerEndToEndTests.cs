using System.Net;
using System.Security.Cryptography;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Blobs;

/// <summary>A real server whose blob store is a real s3rver bucket: artifacts go there and come back from there.</summary>
[Collection("s3rver")]
public sealed class S3ServerEndToEndTests(S3ServerFixture s3)
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  mkdir -p dist
                  head -c 300000 /dev/urandom > dist/app.bin
                  sha256sum dist/app.bin
                artifacts: [dist/app.bin]
        release:
          branch: main
          version: "2.0.{run}"
        """;

    [Fact]
    public async Task PipelineArtifact_IsStoredInTheBucket_NotTheDataFolder_AndServedFromIt()
    {
        var prefix = S3Server.NewPrefix();
        var logs = new CapturedLogs();
        await using var server = await SlipwayTestServer.StartAsync(o => s3.Server.Configure(o, prefix), logs: logs);
        using var repo = Pipelines.Repo(Pipeline);

        var run = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        Assert.Equal("succeeded", run.Status);
        var release = await Releases.ReleaseTests.WaitForReleaseAsync(server, run.Id);
        var artifact = Assert.Single((await server.Client.GetReleaseAsync("shop", release.Version)).Artifacts);

        using var admin = Admin(server);
        var fromRun = await (await Expect(await admin.GetAsync($"/api/v1/runs/{run.Id}/artifacts/pack/dist/app.bin"), HttpStatusCode.OK)).Content.ReadAsByteArrayAsync();
        var fromRelease = await (await Expect(await admin.GetAsync($"/api/v1/projects/shop/releases/{release.Version}/artifacts/pack/dist/app.bin"), HttpStatusCode.OK))
            .Content.ReadAsByteArrayAsync();

        Assert.Equal(300_000, fromRun.Length);
        Assert.Equal(artifact.Sha256, Convert.ToHexStringLower(SHA256.HashData(fromRun)));
        Assert.Equal(fromRun, fromRelease);
        Assert.Contains(artifact.Sha256 + "  dist/app.bin", await server.LogAsync(run.Id, "pack")); // what the job made
        using var client = s3.Server.CreateClient();
        var stored = await client.GetObjectMetadataAsync(s3.Server.Bucket, $"{prefix}/{BlobKeys.Artifact(artifact.Sha256)}");
        Assert.Equal(300_000, stored.ContentLength);
        Assert.False(Directory.Exists(Path.Combine(server.Options.FullDataDirectory, "artifacts")));
        Assert.Contains(logs.Entries, e => e.Message == $"Blob store: s3://{s3.Server.Bucket}/{prefix} at {s3.Server.Endpoint}");
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(S3Server.SecretKey));
    }

    [Fact]
    public async Task TamperedObjectInTheBucket_IsRefused()
    {
        var prefix = S3Server.NewPrefix();
        await using var server = await SlipwayTestServer.StartAsync(o => s3.Server.Configure(o, prefix));
        using var repo = Pipelines.Repo(Pipeline);
        var run = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        var release = await Releases.ReleaseTests.WaitForReleaseAsync(server, run.Id);
        var artifact = Assert.Single((await server.Client.GetReleaseAsync("shop", release.Version)).Artifacts);
        using var client = s3.Server.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = s3.Server.Bucket, Key = $"{prefix}/{BlobKeys.Artifact(artifact.Sha256)}", ContentBody = "evil", UseChunkEncoding = false,
        });

        using var admin = Admin(server);
        var response = await admin.GetAsync($"/api/v1/projects/shop/releases/{release.Version}/artifacts/pack/dist/app.bin");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("does not match its recorded digest", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MissingBucket_StopsStartUp_NamingTheBucketAndStatus()
    {
        var error = await StartUpErrorAsync(o => o.Blobs = "s3://no-such-bucket/p");

        Assert.Contains("s3://no-such-bucket/p/slipway-probe/", error.Message);
        Assert.Contains("HTTP 404 NoSuchBucket", error.Message);
        Assert.DoesNotContain(S3Server.SecretKey, error.ToString());
    }

    [Fact]
    public async Task UnknownAccessKey_StopsStartUp_WithoutRepeatingTheCredentials()
    {
        var error = await StartUpErrorAsync(o => (o.S3AccessKey, o.S3SecretKey) = ("AKIDEXAMPLE", "wJalrXUtnFEMI-example-secret"));

        Assert.Contains("HTTP 403 InvalidAccessKeyId", error.Message);
        Assert.DoesNotContain("AKIDEXAMPLE", error.ToString());
        Assert.DoesNotContain("wJalrXUtnFEMI", error.ToString());
    }

    [Fact]
    public async Task ServerCommand_TakesBlobsFlagAndS3Variables_AndRefusesToStartOnAMissingBucket()
    {
        using var data = new TempDirectory();
        var env = new Dictionary<string, string>
        {
            ["SLIPWAY_S3_ENDPOINT"] = s3.Server.Endpoint, ["AWS_REGION"] = S3Server.Region,
            ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        };
        string[] args = ["server", "--data", data.Path, "--urls", "http://127.0.0.1:0", "--no-agent"];

        var missing = await SlipwayProcess.RunAsync([.. args, "--blobs", "s3://no-such-bucket/p"], env);
        var invalid = await SlipwayProcess.RunAsync([.. args, "--blobs", "s3://No_Such"], env);

        Assert.Equal(1, missing.Exit);
        Assert.Contains($"error: could not put s3://no-such-bucket/p/slipway-probe/", missing.Err);
        Assert.Contains($"(s3://no-such-bucket/p at {s3.Server.Endpoint}): HTTP 404 NoSuchBucket", missing.Err);
        Assert.DoesNotContain(S3Server.SecretKey, missing.Out + missing.Err);
        Assert.Equal((1, "error: --blobs: 'No_Such' is not a valid bucket name (3-63 characters of a-z, 0-9, '.', '-')"), (invalid.Exit, invalid.Err.Trim()));
    }

    [Fact]
    public async Task AServerOnTheLocalDefault_NeverLoadsTheAwsSdk_OneOnS3Does()
    {
        // Idle memory: the SDK's assemblies cost several MiB for nothing on a single node (see BlobStores.CreateS3).
        Assert.False(await LoadsAwsSdkAsync(blobs: null));
        Assert.True(await LoadsAwsSdkAsync(blobs: $"s3://{s3.Server.Bucket}/{S3Server.NewPrefix()}"));
    }

    /// <summary>Starts a real <c>slipway server</c> process, waits until it answers and tells whether it mapped AWSSDK.Core.dll.</summary>
    private async Task<bool> LoadsAwsSdkAsync(string? blobs)
    {
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort.Get()}";
        var env = new Dictionary<string, string>
        {
            ["SLIPWAY_S3_ENDPOINT"] = s3.Server.Endpoint, ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        };
        List<string> args = ["server", "--data", data.Path, "--urls", url, "--no-agent"];
        if (blobs is not null) args.AddRange(["--blobs", blobs]);
        using var process = SlipwayProcess.Start(args, env);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Eventually.ValueAsync(async () =>
            {
                try { return (await http.GetAsync(url + "/healthz")).IsSuccessStatusCode ? "up" : null; }
                catch (HttpRequestException) { return null; }
            }, TimeSpan.FromSeconds(60), "the server to answer");
            return (await File.ReadAllTextAsync($"/proc/{process.Id}/maps")).Contains("AWSSDK.Core.dll");
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>What a server pointed at this s3rver, changed by <paramref name="change"/>, fails to start with.</summary>
    private async Task<BlobStoreException> StartUpErrorAsync(Action<ServerOptions> change)
    {
        using var data = new TempDirectory();
        var options = new ServerOptions { DataDirectory = data.Path, Urls = "http://127.0.0.1:0", EmbeddedAgent = false };
        s3.Server.Configure(options, "p");
        change(options);
        await using var app = SlipwayServer.Build(options, logging => logging.ClearProviders());
        return await Assert.ThrowsAsync<BlobStoreException>(() => SlipwayServer.PrepareAsync(app));
    }
}
