namespace Slipway.Server.Git;

/// <summary>
/// Where a path on this disk really leads, as the operating system would walk it (like realpath(3), but also for a
/// path that does not exist yet): each symbolic link is followed where it appears, and <c>..</c> steps back from the
/// place reached, not from the text. So <c>/tmp/link-to-data/../x</c> or a link to the data folder cannot pass for a
/// path outside it.
/// </summary>
public static class LocalPaths
{
    private const int MaxLinks = 40; // as Linux's own limit on links followed in one lookup

    public static string Resolve(string path)
    {
        var links = 0;
        return Walk("/", Path.IsPathRooted(path) ? path : Path.Combine(Environment.CurrentDirectory, path), ref links);
    }

    private static string Walk(string start, string path, ref int links)
    {
        var current = path.StartsWith('/') ? "/" : start;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? "/"; continue; }
            var next = current == "/" ? "/" + part : current + "/" + part;
            var target = new FileInfo(next).LinkTarget;
            if (target is null) { current = next; continue; }
            if (++links > MaxLinks) throw new IOException($"too many levels of symbolic links in '{path}'");
            // A relative link target is walked from the folder holding the link.
            current = Walk(current, target, ref links);
        }
        return current;
    }
}
