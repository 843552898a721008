namespace Slipway.Server.Blobs;

/// <summary>
/// Blobs as files under one directory (the data folder itself, so existing artifacts keep their places): the single-node
/// store. A put moves the caller's file into place with one rename, so readers see the old file or the new one, never a
/// half-written one.
/// </summary>
public sealed class LocalBlobStore(string root) : IBlobStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Description => "local " + Root;

    private string PathOf(string key) => Path.Combine(Root, BlobKeys.Check(key));

    public Task PutFileAsync(string key, string localPath, CancellationToken ct)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // First beside the target, then one rename over it. A direct move would do when both are on one file system,
        // but across file systems File.Move copies into the target itself, where a reader could see half a file.
        var temp = target + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.Move(localPath, temp);
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length));
        FileStream file;
        try { file = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16); }
        catch (FileNotFoundException) { return Task.FromResult<Stream?>(null); }
        catch (DirectoryNotFoundException) { return Task.FromResult<Stream?>(null); }
        file.Position = Math.Min(offset, file.Length);
        var remaining = file.Length - file.Position;
        if (length is null || length >= remaining) return Task.FromResult<Stream?>(file);
        return Task.FromResult<Stream?>(new BoundedStream(file, length.Value));
    }

    public Task<long?> SizeAsync(string key, CancellationToken ct)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public Task CheckAsync(CancellationToken ct)
    {
        try { Directory.CreateDirectory(Root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BlobStoreException($"blob store {Description}: {e.Message}", e);
        }
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return Task.FromResult(false);
        File.Delete(path);
        return Task.FromResult(true);
    }
}
