using System.Security.Cryptography;
using Slipway.Testing;

namespace Slipway.Server.Tests.Blobs;

/// <summary>
/// What every blob store must do, run against each real provider (<see cref="LocalBlobStoreTests"/>,
/// <see cref="S3BlobStoreTests"/>); each test reads back what it wrote, byte for byte. The store is made by
/// <see cref="BlobStores.FromOptions"/>, as the server makes it.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    private readonly TempDirectory _scratch = new("slipway-blobs");
    private IBlobStore? _store;

    protected ServerOptions Options { get; } = new() { Blobs = null };
    protected IBlobStore Store => _store ?? throw new InvalidOperationException("not initialized");

    /// <summary>Sets <see cref="Options"/> up for the provider under test (its data folder is set already).</summary>
    protected abstract void Configure(ServerOptions options);

    /// <summary>Replaces the stored bytes of <paramref name="key"/> behind the store's back, as a broken disk or a person would.</summary>
    protected abstract Task OverwriteDirectlyAsync(string key, byte[] content);

    /// <summary>Every key the store holds (relative to its root or prefix), read from the storage itself.</summary>
    protected abstract Task<IReadOnlyList<string>> StoredKeysAsync();

    public async Task InitializeAsync()
    {
        Options.DataDirectory = Path.Combine(_scratch.Path, "data");
        Configure(Options);
        _store = BlobStores.FromOptions(Options);
        await _store.CheckAsync(CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        (_store as IDisposable)?.Dispose();
        _scratch.Dispose();
        return Task.CompletedTask;
    }

    protected string LocalFile(byte[] content)
    {
        var path = Path.Combine(_scratch.Path, "upload-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }

    protected async Task<byte[]?> ReadAsync(string key, long offset = 0, long? length = null)
    {
        await using var stream = await Store.OpenReadAsync(key, offset, length);
        if (stream is null) return null;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected static byte[] Content(int size) => RandomNumberGenerator.GetBytes(size);

    [Fact]
    public async Task SmallPut_ReadsBackByteForByte_WithItsSize()
    {
        var content = Content(1000);
        await Store.PutFileAsync("a/b.txt", LocalFile(content), default);

        Assert.Equal(content, await ReadAsync("a/b.txt"));
        Assert.Equal(1000, await Store.SizeAsync("a/b.txt", default));
        Assert.Equal(["a/b.txt"], await StoredKeysAsync());
    }

    [Fact]
    public async Task LargeFile_PastTheSinglePutLimit_RoundTripsWithTheSameSha256()
    {
        // Past S3BlobStore.SinglePutLimit with a short last part: a multipart upload of three parts on S3.
        var content = Content((int)(S3BlobStore.SinglePutLimit + S3BlobStore.PartSize / 2 + 12345));
        var file = LocalFile(content);
        await Store.PutFileAsync("big/file.bin", file, default);

        Assert.False(File.Exists(file));
        Assert.Equal(content.Length, await Store.SizeAsync("big/file.bin", default));
        await using var stream = await Store.OpenReadAsync("big/file.bin");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream!)));
    }

    [Fact]
    public async Task RangeReads_ReturnTheAskedBytes_AndNothingPastTheEnd()
    {
        var content = Content(1000);
        await Store.PutFileAsync("range.bin", LocalFile(content), default);

        Assert.Equal(content[100..], await ReadAsync("range.bin", offset: 100));
        Assert.Equal(content[100..150], await ReadAsync("range.bin", offset: 100, length: 50));
        Assert.Equal(content[990..], await ReadAsync("range.bin", offset: 990, length: 50)); // length past the end
        Assert.Equal(content, await ReadAsync("range.bin", offset: 0, length: 1000));
        Assert.Empty((await ReadAsync("range.bin", offset: 1000))!); // offset at the end
        Assert.Empty((await ReadAsync("range.bin", offset: 5000, length: 10))!); // past the end
        Assert.Empty((await ReadAsync("range.bin", offset: 10, length: 0))!);
    }

    [Fact]
    public async Task MissingKey_IsNull_ForOpenAndSize()
    {
        Assert.Null(await ReadAsync("no/such.key"));
        Assert.Null(await ReadAsync("no/such.key", offset: 10, length: 5));
        Assert.Null(await Store.SizeAsync("no/such.key", default));
    }

    [Fact]
    public async Task Overwrite_ReplacesTheWholeContent()
    {
        await Store.PutFileAsync("over.bin", LocalFile(Content(5000)), default);
        var shorter = Content(300);
        await Store.PutFileAsync("over.bin", LocalFile(shorter), default);

        Assert.Equal(shorter, await ReadAsync("over.bin"));
        Assert.Equal(300, await Store.SizeAsync("over.bin", default));
    }

    [Fact]
    public async Task Delete_RemovesTheKey()
    {
        await Store.PutFileAsync("gone/soon.bin", LocalFile(Content(10)), default);

        Assert.True(await Store.DeleteAsync("gone/soon.bin", default));
        Assert.Null(await ReadAsync("gone/soon.bin"));
        Assert.Null(await Store.SizeAsync("gone/soon.bin", default));
        Assert.Empty(await StoredKeysAsync());
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("A")]
    [InlineData("a//b")]
    [InlineData("")]
    [InlineData("a/./b")]
    [InlineData("/abs")]
    public async Task InvalidKey_IsRefusedBeforeAnyIo(string key)
    {
        var file = LocalFile(Content(10));

        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutFileAsync(key, file, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SizeAsync(key, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key, default));
        Assert.True(File.Exists(file));
        Assert.Empty(await StoredKeysAsync());
    }

    [Fact]
    public async Task ConcurrentPutsOfOneKey_LeaveOneWholeContent()
    {
        // The same bytes, as when two uploads of one artifact race to its content-addressed key (the only way Slipway
        // writes one key twice at once). Different contents are left to the provider: the local store renames (see
        // LocalBlobStoreTests), S3 and MinIO replace objects whole, but s3rver writes them in place.
        var content = Content(3 * 1024 * 1024 + 7);
        var (a, b) = (LocalFile(content), LocalFile(content));

        await Task.WhenAll(Task.Run(() => Store.PutFileAsync("race.bin", a, default)), Task.Run(() => Store.PutFileAsync("race.bin", b, default)));

        Assert.Equal(content, await ReadAsync("race.bin"));
        Assert.Equal(["race.bin"], await StoredKeysAsync());
    }

    [Fact]
    public async Task Put_TakesTheLocalFileAway()
    {
        var file = LocalFile(Content(10));
        await Store.PutFileAsync("taken.bin", file, default);
        Assert.False(File.Exists(file));
    }

    private ArtifactFiles Artifacts => new(Options, Store);

    [Fact]
    public async Task ArtifactFiles_StoreDigestAndSize_EqualContentStoredOnce()
    {
        var content = Content(70_000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));

        var first = await Artifacts.StoreAsync(new MemoryStream(content), default);
        var second = await Artifacts.StoreAsync(new MemoryStream(content), default);

        Assert.Equal((sha, 70_000L), first);
        Assert.Equal(first, second);
        Assert.Equal([BlobKeys.Artifact(sha)], await StoredKeysAsync());
        Assert.Equal(sha, await Artifacts.DigestOfStoredAsync(sha, default));
        await using var stream = await Artifacts.OpenReadAsync(sha, default);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
        Assert.Empty(Directory.GetFiles(Path.Combine(Options.FullDataDirectory, "tmp"))); // no temp file left behind
    }

    [Fact]
    public async Task ArtifactFiles_ContentTamperedInTheStore_DiffersAndFailsItsReaderAtTheEnd()
    {
        var (sha, _) = await Artifacts.StoreAsync(new MemoryStream(Content(5000)), default);
        var evil = Content(5000);
        await OverwriteDirectlyAsync(BlobKeys.Artifact(sha), evil);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(evil)), await Artifacts.DigestOfStoredAsync(sha, default));
        await using var stream = await Artifacts.OpenReadAsync(sha, default);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => stream!.CopyToAsync(Stream.Null));
        Assert.Contains(sha, error.Message);
    }

    [Fact]
    public async Task ArtifactFiles_MissingDigest_IsNull()
    {
        var sha = new string('a', 64);
        Assert.Null(await Artifacts.DigestOfStoredAsync(sha, default));
        Assert.Null(await Artifacts.OpenReadAsync(sha, default));
    }
}
