namespace Slipway.Core.Releases;

/// <summary>
/// One release of a project as its lineage sees it: its id (ids grow with time) and its parents, the nearest earlier
/// releases whose commits its commit descends from. Null parents: not known (made before Slipway recorded them).
/// </summary>
public sealed record LineageRelease(long Id, IReadOnlyList<long>? Parents);

/// <summary>
/// Which releases contain which: a release contains an earlier one when its commit descends from that one's (git), so a
/// hotfix cut from an older release branch does not contain the main line's newer releases, and a main-line release made
/// after the hotfix was merged back contains both. Recorded as each release's parents when it is made
/// (<see cref="ParentsAsync"/>) and read by following them (<see cref="Containing"/>). A release whose parents are not
/// known keeps the rule from before they were recorded: it contains every release before it. Pure.
/// </summary>
public sealed class ReleaseLineage(IEnumerable<LineageRelease> releases)
{
    /// <summary>How many earlier releases a new one asks git about at most; beyond that it is taken to contain none of the rest.</summary>
    public const int MaxChecks = 100;

    private readonly IReadOnlyList<LineageRelease> _ordered = releases.OrderBy(r => r.Id).ToList();

    /// <summary>
    /// The releases containing release <paramref name="release"/>: itself and every release descending from it (one pass
    /// in id order: parents are always older).
    /// </summary>
    public IReadOnlySet<long> Containing(long release) => Containing([release]);

    /// <summary>
    /// The releases containing any of <paramref name="named"/>: those and every release descending from one of them. An item
    /// named by several releases (a fix cherry-picked from a hotfix to the main line) is in each of their lines.
    /// </summary>
    public IReadOnlySet<long> Containing(IReadOnlyCollection<long> named)
    {
        var result = new HashSet<long>(named);
        if (result.Count == 0) return result;
        var first = result.Min();
        foreach (var r in _ordered)
            if (r.Id > first && (r.Parents is { } parents ? parents.Any(result.Contains) : true))
                result.Add(r.Id);
        return result;
    }

    /// <summary>
    /// The parents of a new release among <paramref name="earlier"/>: the earlier releases its commit descends from
    /// (<paramref name="isAncestor"/>, asked of git) that no other parent already descends from. Asked newest first, and a
    /// release contained in a parent found already is not asked about, so on a single line of releases git is asked once.
    /// Null when that could not be decided within <paramref name="maxChecks"/> questions (the release is then stored with its
    /// parents unknown, and keeps the rule of before: it contains every release before it), never a guess.
    /// </summary>
    public static async Task<IReadOnlyList<long>?> ParentsAsync(IReadOnlyList<LineageRelease> earlier, Func<long, Task<bool>> isAncestor,
        int maxChecks = MaxChecks)
    {
        var byId = earlier.ToDictionary(r => r.Id);
        var covered = new HashSet<long>();
        var coveredBelow = long.MinValue; // every id below it is covered (a release whose parents are not known contains all before it)
        var parents = new List<long>();
        var checks = 0;
        foreach (var candidate in earlier.OrderByDescending(r => r.Id))
        {
            if (IsCovered(candidate.Id)) continue;
            if (checks++ >= maxChecks) return null;
            if (!await isAncestor(candidate.Id)) continue;
            parents.Add(candidate.Id);
            Cover(candidate.Id);
        }
        return parents;

        bool IsCovered(long id) => id < coveredBelow || covered.Contains(id);

        // The release and everything it contains are covered: none of them can be a parent of its own.
        void Cover(long id)
        {
            var stack = new Stack<long>([id]);
            while (stack.TryPop(out var next))
            {
                if (IsCovered(next)) continue;
                covered.Add(next);
                if (!byId.TryGetValue(next, out var row)) continue;
                if (row.Parents is null) coveredBelow = Math.Max(coveredBelow, next);
                else foreach (var older in row.Parents) stack.Push(older);
            }
        }
    }
}
