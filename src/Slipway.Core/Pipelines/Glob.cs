using System.Collections.Concurrent;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Glob matching for branch filters and artifact/report paths. Paths use <c>/</c>.
/// <list type="bullet">
/// <item><c>*</c> matches any characters except <c>/</c>; <c>?</c> one character except <c>/</c>.</item>
/// <item><c>**</c> as a whole segment matches zero or more segments (elsewhere it acts like <c>*</c>).</item>
/// <item><c>[abc]</c>, <c>[a-z]</c>, <c>[!a]</c> (or <c>[^a]</c>) match one character, never <c>/</c>.</item>
/// <item><c>\</c> escapes the next character.</item>
/// </list>
/// Hand-written (no Regex) so matching is linear-ish and needs no timeout. Compiled patterns are
/// cached in a bounded concurrent dictionary; all members are thread-safe.
/// </summary>
public static class Glob
{
    private const int CacheLimit = 1024;
    private static readonly ConcurrentDictionary<string, GlobPattern> Cache = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="path"/> matches; false for any invalid pattern (never throws).</summary>
    public static bool IsMatch(string pattern, string path)
    {
        if (pattern is null || path is null) return false;
        if (!Cache.TryGetValue(pattern, out var compiled))
        {
            if (!GlobPattern.TryCompile(pattern, out compiled, out _)) return false;
            // Patterns come from pipeline files, so the set is small; clearing keeps memory bounded
            // if something feeds many distinct patterns.
            if (Cache.Count >= CacheLimit) Cache.Clear();
            Cache[pattern] = compiled!;
        }
        return compiled!.IsMatch(path);
    }

    /// <summary>Checks glob syntax only (branch filters).</summary>
    public static bool TryValidate(string pattern, out string? error) =>
        GlobPattern.TryCompile(pattern, out _, out error);

    /// <summary>
    /// Checks a workspace-relative path glob (artifacts, reports): valid syntax, no leading <c>/</c>,
    /// no <c>.</c> or <c>..</c> segment, no empty segment.
    /// </summary>
    public static bool TryValidateRelativePath(string pattern, out string? error)
    {
        if (!TryValidate(pattern, out error)) return false;
        if (pattern.StartsWith('/'))
        {
            error = "absolute paths are not allowed; use a path relative to the workspace";
            return false;
        }
        foreach (var segment in pattern.Split('/'))
        {
            error = segment switch
            {
                "" => "empty path segment ('//' or a trailing '/')",
                ".." => "'..' segments are not allowed; paths must stay inside the workspace",
                "." => "'.' segments are not allowed; write the path without './'",
                _ => null,
            };
            if (error is not null) return false;
        }
        return true;
    }
}
