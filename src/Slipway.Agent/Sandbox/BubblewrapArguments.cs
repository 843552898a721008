namespace Slipway.Agent.Sandbox;

/// <summary>An unprivileged account a job runs as when the agent itself runs as root.</summary>
public sealed record JobAccount(string Name, int Uid, int Gid);

/// <summary>
/// What one job may see, as paths on the agent's machine. <see cref="Workspace"/> is the job's own folder, bound
/// read-write at the same path (so absolute paths printed by the job mean the same thing outside). Everything else
/// of the machine is visible read-only, except <see cref="Hidden"/> folders (each replaced by an empty in-memory
/// folder: the server's data folder, the agent's work folder with the other jobs' workspaces and its credential,
/// home folders) and <see cref="Masked"/> files (each replaced by an empty device: container-engine sockets).
/// <see cref="RunAs"/>: when the agent runs as root, the unprivileged account the job runs as. <see cref="Shared"/>: folders
/// the operator shares read-write with every job (a build cache); never inside a hidden folder.
/// </summary>
public sealed record SandboxLayout(
    string Workspace,
    string WorkingDirectory,
    IReadOnlyList<string> Hidden,
    IReadOnlyList<string> Masked,
    JobAccount? RunAs,
    IReadOnlyList<string>? Shared = null);

/// <summary>
/// The <c>bwrap</c> (bubblewrap) command line for a job (ADR 0006). Pure: the same layout always gives the same
/// arguments, so the rules are table-tested without starting anything. The job gets:
/// <list type="bullet">
/// <item>the machine read-only (<c>--ro-bind / /</c>), so it cannot change the server's files or its own agent;</item>
/// <item>its own process namespace (<c>--unshare-pid</c>, a fresh <c>/proc</c>): it cannot see, signal or read the
/// memory, environment or root folder (<c>/proc/PID/root</c>) of the server, the agent or other jobs;</item>
/// <item>fresh <c>/tmp</c>, <c>/var/tmp</c> and <c>/dev</c>, its own IPC namespace;</item>
/// <item>the hidden folders replaced by empty ones (mounted in parent-first order; a folder inside another hidden one
/// is already invisible), then its workspace and the shared folders bound back in with 0755 folders on the way;</item>
/// <item>no capabilities and no way to gain any (bwrap sets no-new-privileges); as root, bwrap keeps only the three
/// capabilities that <c>setpriv</c> needs to switch to <see cref="SandboxLayout.RunAs"/>, and setpriv drops them all;</item>
/// <item>death with the agent (<c>--die-with-parent</c>): a killed agent leaves no job running.</item>
/// </list>
/// The network is shared: builds fetch packages and tests talk to services on loopback. What a job can reach over
/// the network is an operator's matter (docs/operations.md: build agents belong on other machines than the server).
/// </summary>
public static class BubblewrapArguments
{
    public const string Setpriv = "/usr/bin/setpriv";

    /// <summary>Folders every job gets empty and writable by anyone (sticky), as on a normal machine.</summary>
    public static readonly IReadOnlyList<string> FreshTemporaryFolders = ["/tmp", "/var/tmp"];

    /// <summary>The arguments after <c>bwrap</c> up to and including <c>--</c> and, as root, the setpriv prefix; the job's command follows.</summary>
    public static IReadOnlyList<string> For(SandboxLayout layout)
    {
        var workspace = Normal(layout.Workspace);
        if (workspace == "/") throw new ArgumentException("a job's workspace cannot be the root folder");
        var args = new List<string>
        {
            "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-cgroup-try",
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
        };
        var emptied = new List<string>();
        foreach (var temporary in FreshTemporaryFolders)
        {
            args.AddRange(["--perms", "1777", "--tmpfs", temporary]);
            emptied.Add(temporary);
        }
        var hiddenFolders = ParentsFirst(layout.Hidden).ToList();
        var shares = (layout.Shared ?? []).Select(Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var shared in shares)
        {
            if (shared == "/") throw new ArgumentException("cannot share the root folder with jobs");
            if (hiddenFolders.FirstOrDefault(h => IsSameOrInside(shared, h) || IsInside(h, shared)) is { } clash)
                throw new ArgumentException($"cannot share '{shared}' with jobs: it {(IsInside(clash, shared) ? "holds" : "is inside")} the hidden folder '{clash}'");
            if (IsSameOrInside(shared, workspace) || IsInside(workspace, shared))
                throw new ArgumentException($"cannot share '{shared}' with jobs: it overlaps the job's workspace");
        }
        foreach (var hidden in hiddenFolders)
        {
            if (emptied.Any(e => IsSameOrInside(hidden, e))) continue; // already invisible
            if (IsInside(hidden, workspace)) continue;                  // would hide part of the job's own folder
            args.AddRange(["--tmpfs", hidden]);
            emptied.Add(hidden);
        }
        foreach (var file in layout.Masked.Select(Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (emptied.Any(e => IsInside(file, e)) || IsSameOrInside(file, workspace)) continue;
            args.AddRange(["--ro-bind", "/dev/null", file]);
        }
        // The workspace, then the shared folders, bound back in. The folders between an emptied folder and each of them
        // exist only in the sandbox: made first, traversable by the job's account (bwrap would make them 0700 for root),
        // holding nothing but the way in.
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bound in shares.Prepend(workspace))
        {
            if (emptied.Where(e => IsInside(bound, e)).MaxBy(e => e.Length) is { } container)
                foreach (var between in FoldersBetween(container, bound))
                    if (made.Add(between)) args.AddRange(["--perms", "0755", "--dir", between]);
            args.AddRange(["--bind", bound, bound]);
        }
        args.AddRange(["--chdir", Normal(layout.WorkingDirectory)]);
        if (layout.RunAs is { } account)
        {
            args.AddRange(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP", "--"]);
            args.AddRange([Setpriv, $"--reuid={account.Uid}", $"--regid={account.Gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]);
        }
        else args.Add("--");
        return args;
    }

    /// <summary>Absolute, without a trailing slash (except the root itself).</summary>
    public static string Normal(string path)
    {
        if (!Path.IsPathFullyQualified(path)) throw new ArgumentException($"sandbox paths must be absolute: '{path}'");
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    private static IEnumerable<string> ParentsFirst(IEnumerable<string> paths) =>
        paths.Select(Normal).Where(p => p != "/").Distinct(StringComparer.Ordinal).OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal);

    public static bool IsInside(string path, string folder) =>
        path.StartsWith(folder == "/" ? "/" : folder + "/", StringComparison.Ordinal) && path != folder;

    private static bool IsSameOrInside(string path, string folder) => path == folder || IsInside(path, folder);

    /// <summary>The folders strictly between <paramref name="outer"/> and <paramref name="inner"/>, outermost first.</summary>
    private static IEnumerable<string> FoldersBetween(string outer, string inner)
    {
        var relative = inner[(outer.Length + 1)..].Split('/');
        var current = outer;
        for (var i = 0; i < relative.Length - 1; i++)
        {
            current = current + "/" + relative[i];
            yield return current;
        }
    }
}
