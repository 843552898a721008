namespace Slipway.Testing;

/// <summary>A fresh, uniquely named folder that is deleted (best effort) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "slipway-test")
        : this(System.IO.Path.GetTempPath(), prefix)
    {
    }

    /// <summary>Creates the folder under <paramref name="parent"/> instead of the user's temp folder.</summary>
    public TempDirectory(string parent, string prefix)
    {
        Path = System.IO.Path.Combine(parent, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public override string ToString() => Path;

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
                Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder must never fail a test (e.g. a file still held open by a child process).
        }
    }
}
