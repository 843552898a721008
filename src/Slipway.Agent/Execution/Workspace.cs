using System.Formats.Tar;
using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;
using Slipway.Core.Pipelines;

namespace Slipway.Agent.Execution;

/// <summary>
/// A job attempt's private folder: WORK/jobs/JOBID-LEASE/{src, tmp, home}. <c>src</c> is a fresh checkout of the exact
/// commit (a tar of the commit from the server, cached per commit under WORK/source-cache), <c>tmp</c> holds the
/// script file and is the job's TMPDIR, <c>home</c> is its HOME in a sandbox. Deleted when the job ends.
/// </summary>
/// <remarks>
/// The job controls what is in <c>src</c>, including symbolic links (from the commit or made by the script), while the
/// agent, outside any sandbox and possibly as root, writes downloaded artifacts into it before the job and reads
/// artifacts and reports out of it after. So the agent never follows a link here: it neither descends into a linked
/// folder nor reads or writes through a linked file or folder (<see cref="SafePath"/>), and nothing of the job runs
/// while it does (before the start, and after the sandbox with every process of the job is gone).
/// </remarks>
public sealed class Workspace : IDisposable
{
    private const int MaxArtifactFiles = 10_000;
    private const int SourceCacheSize = 32;

    private Workspace(string root)
    {
        Root = root;
        Source = Path.Combine(root, "src");
        Temp = Path.Combine(root, "tmp");
        Home = Path.Combine(root, "home");
        Directory.CreateDirectory(Source);
        Directory.CreateDirectory(Temp);
    }

    public string Root { get; }
    public string Source { get; }
    public string Temp { get; }
    public string Home { get; }

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
    public async Task CheckoutAsync(IAgentProtocol client, JobLease lease, string workDirectory, CancellationToken ct)
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

    public async Task DownloadArtifactsAsync(IAgentProtocol client, JobLease lease, CancellationToken ct)
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

    /// <summary>
    /// Regular files under <see cref="Source"/> matching any of the globs, as relative '/' paths. Symbolic links are
    /// skipped, files and folders alike (<c>ln -s /etc out/etc</c> publishes nothing), and so are pipes, sockets and
    /// devices (opening a pipe would hang the agent); <paramref name="skippedLinks"/> receives the matching entries left
    /// out, so the job's log can say why a file is missing.
    /// </summary>
    public IReadOnlyList<string> Find(IReadOnlyList<string> globs, ICollection<string>? skippedLinks = null)
    {
        if (globs.Count == 0) return [];
        var found = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = true };
        var folders = new Stack<string>();
        folders.Push(Source);
        while (folders.Count > 0 && found.Count < MaxArtifactFiles)
        {
            foreach (var entry in new DirectoryInfo(folders.Pop()).EnumerateFileSystemInfos("*", options))
            {
                var relative = Path.GetRelativePath(Source, entry.FullName).Replace('\\', '/');
                if (entry.LinkTarget is not null || (entry is FileInfo && !Sandbox.NativeFiles.IsRegularFile(entry.FullName)))
                {
                    if (globs.Any(g => Glob.IsMatch(g, relative))) skippedLinks?.Add(relative);
                    continue;
                }
                if (entry is DirectoryInfo) { folders.Push(entry.FullName); continue; }
                if (globs.Any(g => Glob.IsMatch(g, relative))) found.Add(relative);
                if (found.Count >= MaxArtifactFiles) break;
            }
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>
    /// The full path of a file under <see cref="Source"/>, refusing a path that leaves it or goes through a symbolic link
    /// (the file itself or any folder on the way), so the agent never reads or writes where a link points.
    /// </summary>
    public string SafePath(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(Source, relative));
        if (!full.StartsWith(Source + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"path '{relative}' leaves the workspace");
        var current = Source;
        foreach (var part in full[(Source.Length + 1)..].Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
                throw new InvalidDataException($"path '{relative}' goes through the symbolic link '{Path.GetRelativePath(Source, current)}'");
        }
        return full;
    }

    public void Dispose()
    {
        try { if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
