using Amazon.S3.Model;
using Slipway.Testing;

namespace Slipway.Server.Tests.Blobs;

[CollectionDefinition("s3rver")]
public sealed class S3Collection : ICollectionFixture<S3ServerFixture>;

/// <summary>The blob store contract on the S3 provider, against a real s3rver; each test under its own key prefix.</summary>
[Collection("s3rver")]
public sealed class S3BlobStoreTests(S3ServerFixture s3) : BlobStoreContract
{
    private readonly string _prefix = S3Server.NewPrefix();

    protected override void Configure(ServerOptions options) => s3.Server.Configure(options, _prefix);

    protected override async Task OverwriteDirectlyAsync(string key, byte[] content)
    {
        using var client = s3.Server.CreateClient();
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = s3.Server.Bucket, Key = $"{_prefix}/{key}", InputStream = new MemoryStream(content), UseChunkEncoding = false,
        });
    }

    protected override async Task<IReadOnlyList<string>> StoredKeysAsync()
    {
        using var client = s3.Server.CreateClient();
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = s3.Server.Bucket, Prefix = _prefix + "/" });
        return (listing.S3Objects ?? []).Select(o => o.Key[(_prefix.Length + 1)..]).Order().ToList();
    }

    [Fact]
    public void Description_NamesBucketPrefixAndEndpoint() =>
        Assert.Equal($"s3://{s3.Server.Bucket}/{_prefix} at {s3.Server.Endpoint}", Store.Description);

    [Fact]
    public async Task LargeFile_IsStoredAsAMultipartUpload_SmallOneInOnePut()
    {
        var (small, large) = (Path.GetTempFileName(), Path.GetTempFileName());
        await File.WriteAllBytesAsync(small, new byte[S3BlobStore.SinglePutLimit]);
        await File.WriteAllBytesAsync(large, new byte[S3BlobStore.SinglePutLimit + 1]);

        var before = s3.Server.PartsStored;
        await Store.PutFileAsync("single.bin", small, default);
        var afterSmall = s3.Server.PartsStored;
        await Store.PutFileAsync("multi.bin", large, default);

        Assert.Equal(0, afterSmall - before);
        Assert.Equal(3, s3.Server.PartsStored - afterSmall); // 8 MiB + 8 MiB + 1 byte
        Assert.Equal(S3BlobStore.SinglePutLimit + 1, await Store.SizeAsync("multi.bin", default));
    }
}
