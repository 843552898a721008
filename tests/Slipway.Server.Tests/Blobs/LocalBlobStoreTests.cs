namespace Slipway.Server.Tests.Blobs;

/// <summary>The blob store contract on the local provider: files under the data folder.</summary>
public sealed class LocalBlobStoreTests : BlobStoreContract
{
    protected override void Configure(ServerOptions options) => options.Blobs = null;

    protected override Task OverwriteDirectlyAsync(string key, byte[] content) =>
        File.WriteAllBytesAsync(Path.Combine(Options.FullDataDirectory, key), content);

    protected override Task<IReadOnlyList<string>> StoredKeysAsync()
    {
        var root = Options.FullDataDirectory;
        IReadOnlyList<string> keys = Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order().ToList()
            : [];
        return Task.FromResult(keys);
    }

    [Fact]
    public void Description_NamesTheFolder() => Assert.Equal("local " + Options.FullDataDirectory, Store.Description);

    [Fact]
    public async Task DeleteOfAMissingKey_SaysSo() => Assert.False(await Store.DeleteAsync("never/there", default));

    [Fact]
    public async Task ConcurrentPutsOfDifferentContents_LeaveOneOfThemWhole()
    {
        var (first, second) = (Content(3 * 1024 * 1024), Content(3 * 1024 * 1024 + 7));
        var (a, b) = (LocalFile(first), LocalFile(second));

        await Task.WhenAll(Task.Run(() => Store.PutFileAsync("race.bin", a, default)), Task.Run(() => Store.PutFileAsync("race.bin", b, default)));

        var stored = await ReadAsync("race.bin");
        Assert.NotNull(stored);
        Assert.True(stored.SequenceEqual(first) || stored.SequenceEqual(second), $"a mix of both puts: {stored.Length} bytes");
    }
}
