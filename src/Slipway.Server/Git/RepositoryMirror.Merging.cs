namespace Slipway.Server.Git;

/// <summary>A commit of a change request as git has it.</summary>
public sealed record CommitInfo(string Sha, string AuthorName, string AuthorEmail, long AuthoredAt, string Subject);

/// <summary>A file a change touches: lines added and deleted (null for binary files).</summary>
public sealed record ChangedFile(string Path, int? Added, int? Deleted);

/// <summary>What merging two commits would give: the merged tree, or the files that conflict.</summary>
public sealed record MergeResult(string? Tree, IReadOnlyList<string> ConflictingFiles);

/// <summary>Who a commit Slipway makes is by: the author is a user, the committer is always Slipway.</summary>
public sealed record CommitIdentity(string Name, string Email);

/// <summary>
/// What change requests need from the mirror: the commits and files a source branch adds to a target, its diff,
/// a merge computed without a working tree (<c>git merge-tree --write-tree</c>, so conflicts are known before
/// anything is pushed), the commit Slipway makes, and the push of it to the origin (the hosted repository or the
/// external remote). All revisions given here are full commit ids the caller resolved.
/// </summary>
public sealed partial class RepositoryMirror
{
    public const int MaxDiffChars = 2_000_000;
    public static readonly CommitIdentity Committer = new("Slipway", "slipway@localhost");

    /// <summary>
    /// The commits reachable from <paramref name="head"/> but not from <paramref name="target"/> (every reachable commit when
    /// <paramref name="target"/> is null), newest first, at most <paramref name="max"/>.
    /// </summary>
    public async Task<IReadOnlyList<CommitInfo>> CommitsBetweenAsync(string? target, string head, int max = 500, CancellationToken ct = default)
    {
        if (target is not null) RequireSha(target);
        RequireSha(head);
        List<string> args = ["log", $"--max-count={max}", "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1e", head];
        if (target is not null) args.Add("^" + target);
        args.Add("--");
        var output = await GitCli.OutputAsync(Path, args, timeout, ct);
        return output.Split('\x1e', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(record => record.Split('\x1f'))
            .Where(f => f.Length == 5)
            .Select(f => new CommitInfo(f[0], Clean(f[1]), Clean(f[2]), long.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture) * 1000, Clean(f[4])))
            .ToList();
    }

    /// <summary>The files the change touches, compared with where it branched from the target (<c>target...head</c>).</summary>
    public async Task<IReadOnlyList<ChangedFile>> ChangedFilesAsync(string target, string head, CancellationToken ct = default)
    {
        RequireSha(target);
        RequireSha(head);
        var output = await GitCli.OutputAsync(Path, ["diff", "--numstat", "-z", "--no-renames", $"{target}...{head}", "--"], timeout, ct);
        var files = new List<ChangedFile>();
        foreach (var entry in output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('\t', 3);
            if (parts.Length != 3) continue;
            files.Add(new ChangedFile(parts[2], int.TryParse(parts[0], out var a) ? a : null, int.TryParse(parts[1], out var d) ? d : null));
        }
        return files;
    }

    /// <summary>The unified diff of the change (<c>target...head</c>), cut at <see cref="MaxDiffChars"/> with a note saying so.</summary>
    public async Task<string> DiffAsync(string target, string head, CancellationToken ct = default)
    {
        RequireSha(target);
        RequireSha(head);
        var diff = await GitCli.OutputAsync(Path, ["diff", "--no-color", "--no-ext-diff", "--no-textconv", $"{target}...{head}", "--"], timeout, ct);
        return diff.Length <= MaxDiffChars ? diff : diff[..MaxDiffChars] + $"\n[diff cut at {MaxDiffChars} characters; fetch the branch to see all of it]\n";
    }

    /// <summary>Merges <paramref name="head"/> into <paramref name="target"/> in memory: the resulting tree, or the conflicting files.</summary>
    public async Task<MergeResult> MergeTreeAsync(string target, string head, CancellationToken ct = default)
    {
        RequireSha(target);
        RequireSha(head);
        var result = await GitCli.RunAsync(Path, ["merge-tree", "--write-tree", "--name-only", "--no-messages", target, head], timeout, ct);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return result.ExitCode switch
        {
            0 => new MergeResult(lines[0].Trim(), []),
            1 => new MergeResult(null, lines.Skip(1).Select(l => l.Trim()).Distinct().ToList()),
            _ => throw new GitException(result.Stderr.Trim() is { Length: > 0 } e ? e : $"git merge-tree exited with {result.ExitCode}"),
        };
    }

    /// <summary>True when <paramref name="ancestor"/> is reachable from <paramref name="descendant"/>.</summary>
    public async Task<bool> IsAncestorAsync(string ancestor, string descendant, CancellationToken ct = default)
    {
        RequireSha(ancestor);
        RequireSha(descendant);
        var result = await GitCli.RunAsync(Path, ["merge-base", "--is-ancestor", ancestor, descendant], timeout, ct);
        return result.ExitCode switch { 0 => true, 1 => false, _ => throw new GitException(result.Stderr.Trim()) };
    }

    /// <summary>Writes a commit of <paramref name="tree"/> with the given parents; the message goes through a file, never an argument.</summary>
    public async Task<string> CommitTreeAsync(string tree, IReadOnlyList<string> parents, string message, CommitIdentity author, CancellationToken ct = default)
    {
        foreach (var p in parents) RequireSha(p);
        var messageFile = System.IO.Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(messageFile, message, ct);
            List<string> args = ["commit-tree", tree];
            foreach (var p in parents) { args.Add("-p"); args.Add(p); }
            args.Add("-F");
            args.Add(messageFile);
            var env = new Dictionary<string, string>
            {
                ["GIT_AUTHOR_NAME"] = author.Name, ["GIT_AUTHOR_EMAIL"] = author.Email,
                ["GIT_COMMITTER_NAME"] = Committer.Name, ["GIT_COMMITTER_EMAIL"] = Committer.Email,
            };
            return (await GitCli.OutputAsync(Path, args, timeout, ct, env)).Trim();
        }
        finally { File.Delete(messageFile); }
    }

    /// <summary>
    /// Pushes <paramref name="commit"/> to <paramref name="branch"/> of the origin as a plain (never forced) push, so
    /// the origin refuses it when the branch moved since <paramref name="commit"/>'s parent was read: a concurrent
    /// merge or a direct push can make this fail, never lose a commit. <paramref name="env"/> carries a credential for
    /// the askpass helper when the origin needs one. Throws <see cref="GitException"/> with git's reason.
    /// </summary>
    public async Task PushAsync(string commit, string branch, IReadOnlyDictionary<string, string>? env = null, CancellationToken ct = default)
    {
        RequireSha(commit);
        var result = await GitCli.RunAsync(Path, ["push", "--porcelain", "--quiet", "origin", $"{commit}:refs/heads/{branch}"], timeout, ct, env);
        if (!result.Ok)
        {
            var why = string.Join(" ", (result.Stdout + "\n" + result.Stderr).Split('\n')
                .Where(l => l.StartsWith('!') || l.StartsWith("error", StringComparison.Ordinal) || l.StartsWith("fatal", StringComparison.Ordinal) || l.Contains("rejected", StringComparison.Ordinal))
                .Select(l => l.Trim()));
            throw new GitException(why.Length > 0 ? why : $"git push exited with {result.ExitCode}");
        }
    }

    private static string Clean(string text) => new(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
