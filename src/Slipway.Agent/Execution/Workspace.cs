using System.Formats.Tar;
using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;
using Slipway.Core.Pipelines;

namespace Slipway.Agent.Execution;

/// <summary>
/// A job attempt's private folder: WORK/jobs/JOBID-LEASE/{src, tmp}. <c>src</c> is a fresh checkout of the exact commit
/// (a tar of the commit from the server, cached per commit under WORK/source-cache), <c>tmp</c> holds the
/// script file and is the job's TMPDIR. Deleted when the job ends.
/// </summary>
public sealed class Workspace : IDisposable
{
    private const int MaxArtifactFiles = 10_000;
    private const int SourceCacheSize = 32;

    private Workspace(string root)
    {
        Root = root;
        Source = Path.Combine(root, "src");
        Temp = Path.Combine(root, "tmp");
        Directory.CreateDirectory(Source);
        Directory.CreateDirectory(Temp);
    }

    public string Root { get; }
    public string Source { get; }
    public string Temp { get; }

    /// <summary>
    /// One folder per attempt (job id and lease): a retried job may start on another slot while the slot of
    /// its failed attempt is still deleting that attempt's folder.
    /// </summary>
    public static Workspace Create(string workDirectory, long jobId, string leaseId)
    {
        var root = Path.Combine(Path.GetFullPath(workDirectory), "jobs", $"{jobId}-{leaseId[..Math.Min(12, leaseId.Length)]}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        return new Workspace(root);
    }

    /// <summary>Unpacks the commit into <see cref="Source"/>, fetching the tar once per commit.</summary>
    public async Task CheckoutAsync(AgentProtocolClient client, JobLease lease, string workDirectory, CancellationToken ct)
    {
        var cacheDir = Path.Combine(Path.GetFullPath(workDirectory), "source-cache");
        Directory.CreateDirectory(cacheDir);
        var cached = Path.Combine(cacheDir, lease.Commit + ".tar");
        if (!File.Exists(cached))
        {
            var partial = cached + "." + Guid.NewGuid().ToString("N");
            await using (var source = await client.SourceAsync(lease, ct))
            await using (var file = File.Create(partial))
                await source.CopyToAsync(file, ct);
            File.Move(partial, cached, overwrite: true);
            TrimCache(cacheDir);
        }
        await TarFile.ExtractToDirectoryAsync(cached, Source, overwriteFiles: true, ct);
    }

    /// <summary>Keeps the newest <see cref="SourceCacheSize"/> commit archives.</summary>
    private static void TrimCache(string cacheDir)
    {
        foreach (var old in new DirectoryInfo(cacheDir).GetFiles("*.tar").OrderByDescending(f => f.LastWriteTimeUtc).Skip(SourceCacheSize))
        {
            try { old.Delete(); } catch (IOException) { }
        }
    }

    public async Task DownloadArtifactsAsync(AgentProtocolClient client, JobLease lease, CancellationToken ct)
    {
        foreach (var artifact in lease.DownloadArtifacts)
        {
            var target = SafePath(artifact.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using (var source = await client.DownloadArtifactAsync(lease, artifact.Sha256, ct))
            await using (var file = File.Create(target))
                await source.CopyToAsync(file, ct);
            // The executable bit travels with the artifact: a built program must stay runnable in later stages.
            if (artifact.Executable) File.SetUnixFileMode(target, File.GetUnixFileMode(target) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    /// <summary>Files under <see cref="Source"/> matching any of the globs, as relative '/' paths.</summary>
    public IReadOnlyList<string> Find(IReadOnlyList<string> globs)
    {
        if (globs.Count == 0) return [];
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(Source, file).Replace('\\', '/');
            if (globs.Any(g => Glob.IsMatch(g, relative))) found.Add(relative);
            if (found.Count >= MaxArtifactFiles) break;
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    public string SafePath(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(Source, relative));
        if (!full.StartsWith(Source + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"path '{relative}' leaves the workspace");
        return full;
    }

    public void Dispose()
    {
        try { if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
