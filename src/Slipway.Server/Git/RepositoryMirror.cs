using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Slipway.Server.Git;

/// <summary>
/// The server's bare mirror of one project's repository (DATA/mirrors/NAME.git). Fetches take a per-mirror
/// lock so a poll and a webhook never run git on the same mirror at once. Commits are read from the
/// mirror only, never from a working tree.
/// </summary>
public sealed partial class RepositoryMirror(string path, TimeSpan timeout)
{
    private static readonly Dictionary<string, SemaphoreSlim> Locks = new();
    private readonly SemaphoreSlim _lock = LockFor(path);

    public string Path { get; } = path;

    private static SemaphoreSlim LockFor(string path)
    {
        lock (Locks)
        {
            if (!Locks.TryGetValue(path, out var s)) Locks[path] = s = new SemaphoreSlim(1, 1);
            return s;
        }
    }

    /// <summary>Clones <paramref name="url"/> as a mirror; throws <see cref="GitException"/> with git's error if it cannot.</summary>
    public async Task CloneAsync(string url, CancellationToken ct = default, IReadOnlyDictionary<string, string>? env = null)
    {
        await _lock.WaitAsync(ct);
        try { await CloneLockedAsync(url, ct, env); }
        finally { _lock.Release(); }
    }

    /// <summary>Clones <paramref name="url"/> unless the mirror exists (checked under its lock, so two callers clone once). True when it cloned.</summary>
    public async Task<bool> CloneIfMissingAsync(string url, CancellationToken ct, IReadOnlyDictionary<string, string>? env)
    {
        if (Directory.Exists(Path)) return false;
        await _lock.WaitAsync(ct);
        try
        {
            if (Directory.Exists(Path)) return false;
            await CloneLockedAsync(url, ct, env);
            return true;
        }
        finally { _lock.Release(); }
    }

    /// <summary>
    /// Clones beside the mirror's place and renames the finished, configured clone into it: a process killed mid-clone
    /// leaves only a temporary folder, never a half-made mirror that later calls would take for ready.
    /// </summary>
    private async Task CloneLockedAsync(string url, CancellationToken ct, IReadOnlyDictionary<string, string>? env)
    {
        var parent = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(parent);
        foreach (var leftover in Directory.GetDirectories(parent, System.IO.Path.GetFileName(Path) + ".cloning-*"))
            Directory.Delete(leftover, recursive: true);
        var temp = Path + ".cloning-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var result = await GitCli.RunAsync(null, ["clone", "--bare", "--quiet", "--", url, temp], timeout, ct, env);
            if (!result.Ok) throw new GitException(result.Stderr.Trim());
            // Keep every branch in refs/heads as the remote has it.
            await GitCli.OutputAsync(temp, ["config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"], timeout, ct);
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
            Directory.Move(temp, Path);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <param name="env">The project's credential for the askpass helper (<see cref="GitCredentials"/>), if it needs one.</param>
    public async Task FetchAsync(CancellationToken ct = default, IReadOnlyDictionary<string, string>? env = null)
    {
        await _lock.WaitAsync(ct);
        // Branches and tags as the remote has them (tags feed {tag} release versions; a moved tag is taken, not refused).
        try { await GitCli.OutputAsync(Path, ["fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], timeout, ct, env); }
        finally { _lock.Release(); }
    }

    /// <summary>Branch name to head commit, for every branch.</summary>
    public async Task<IReadOnlyDictionary<string, string>> HeadsAsync(CancellationToken ct = default)
    {
        var output = await GitCli.OutputAsync(Path, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"], timeout, ct);
        var heads = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ');
            if (space < 0) continue;
            heads[line[(space + 1)..]["refs/heads/".Length..]] = line[..space];
        }
        return heads;
    }

    /// <summary>The full SHA of a commit-ish, or null if the mirror does not have it.</summary>
    public async Task<string?> ResolveCommitAsync(string revision, CancellationToken ct = default)
    {
        if (revision.StartsWith('-')) return null;
        var result = await GitCli.RunAsync(Path, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"], timeout, ct);
        return result.Ok ? result.Stdout.Trim() : null;
    }

    /// <summary>The head commit of <paramref name="branch"/> in the mirror, or null when there is no such branch.</summary>
    public Task<string?> BranchHeadAsync(string branch, CancellationToken ct = default) =>
        // A full ref name never starts with '-', so git cannot read it as an option.
        ResolveCommitAsync("refs/heads/" + branch, ct);

    /// <summary>The nearest tag matching <paramref name="pattern"/> (a git glob) that <paramref name="commit"/> contains, or null.</summary>
    public async Task<string?> NewestTagAsync(string commit, string pattern, CancellationToken ct = default)
    {
        RequireSha(commit);
        if (pattern.StartsWith('-')) return null;
        var result = await GitCli.RunAsync(Path, ["describe", "--tags", "--abbrev=0", "--match", pattern, commit], timeout, ct);
        return result.Ok && result.Stdout.Trim() is { Length: > 0 } tag ? tag : null;
    }

    /// <summary>The size in bytes of a file at the commit, or null if it is not there.</summary>
    public async Task<long?> FileSizeAsync(string commit, string file, CancellationToken ct = default)
    {
        RequireSha(commit);
        var result = await GitCli.RunAsync(Path, ["cat-file", "-s", $"{commit}:{file}"], timeout, ct);
        return result.Ok && long.TryParse(result.Stdout.Trim(), out var size) ? size : null;
    }

    /// <summary>The file's content at the commit, or null if it is not there. Check its size first: this reads it whole.</summary>
    public async Task<string?> ReadFileAsync(string commit, string file, CancellationToken ct = default)
    {
        RequireSha(commit);
        var result = await GitCli.RunAsync(Path, ["show", $"{commit}:{file}"], timeout, ct);
        return result.Ok ? result.Stdout : null;
    }

    /// <summary>
    /// The messages of the commits reachable from <paramref name="commit"/> but not from <paramref name="since"/>
    /// (all reachable commits when <paramref name="since"/> is null): <c>git log since..commit</c>. At most
    /// <paramref name="max"/> commits, newest first.
    /// </summary>
    public Task<IReadOnlyList<string>> CommitMessagesAsync(string commit, string? since, int max = 10_000, CancellationToken ct = default) =>
        CommitMessagesAsync(commit, since is null ? [] : [since], max, ct);

    /// <summary>The messages of the commits reachable from <paramref name="commit"/> and from none of <paramref name="excluding"/>, newest first.</summary>
    public async Task<IReadOnlyList<string>> CommitMessagesAsync(string commit, IReadOnlyCollection<string> excluding, int max = 10_000, CancellationToken ct = default)
    {
        RequireSha(commit);
        foreach (var since in excluding) RequireSha(since);
        List<string> args = ["log", $"--max-count={max}", "--format=%B%x00", commit];
        args.AddRange(excluding.Select(since => "^" + since));
        args.Add("--");
        var output = await GitCli.OutputAsync(Path, args, timeout, ct);
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).Select(m => m.Trim()).Where(m => m.Length > 0).ToList();
    }

    /// <summary>The commit's author (<c>Name &lt;email&gt;</c>) and message, read with one git process.</summary>
    public async Task<(string Author, string Message)> CommitAuthorAndMessageAsync(string commit, CancellationToken ct = default)
    {
        RequireSha(commit);
        var output = await GitCli.OutputAsync(Path, ["log", "-1", "--format=%an <%ae>%n%B", commit, "--"], timeout, ct);
        var split = output.IndexOf('\n');
        var (author, message) = split < 0 ? (output.Trim(), "") : (output[..split].Trim(), output[(split + 1)..].Trim());
        // Anyone who can push chooses the author name; it is shown in terminals, so no control characters.
        return (Clean(author), message);
    }

    /// <summary>Streams a tar archive of the commit's tree (what an agent checks out) into <paramref name="destination"/>.</summary>
    public async Task ArchiveAsync(string commit, Stream destination, CancellationToken ct = default)
    {
        RequireSha(commit);
        using var process = Process.Start(GitCli.StartInfo(Path, ["archive", "--format=tar", commit]))!;
        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            await process.StandardOutput.BaseStream.CopyToAsync(destination, limit.Token);
            await process.WaitForExitAsync(limit.Token);
            if (process.ExitCode != 0) throw new GitException((await stderr).Trim());
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
    }

    private static void RequireSha(string commit)
    {
        if (!ShaPattern().IsMatch(commit)) throw new ArgumentException($"'{commit}' is not a full commit id", nameof(commit));
    }

    [GeneratedRegex("^[0-9a-f]{40}([0-9a-f]{24})?$")]
    private static partial Regex ShaPattern();
}
