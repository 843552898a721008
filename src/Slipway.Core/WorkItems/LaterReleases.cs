namespace Slipway.Core.WorkItems;

/// <summary>
/// Which later releases carrying a work item its timeline tells one by one: the first <see cref="Told"/> after the item's
/// own release, with their deployments and approvals. The rest are one line ("and 37 more later releases carried it, 1.0.19
/// to 1.0.55"): an item of a long history is carried by hundreds of releases, each deployed to every environment, and the
/// story would drown in them. Deployments that move the item (bring it back after a rollback) and sign-offs are told
/// whatever release they are of; the caller keeps them.
/// </summary>
public static class LaterReleases
{
    public const int Told = 10;

    /// <summary>The later releases (ids above <paramref name="first"/>, in release order) told one by one, and those folded.</summary>
    public static (IReadOnlySet<long> Told, IReadOnlyList<long> Folded) Split(long first, IEnumerable<long> carrying, int told = Told)
    {
        var later = carrying.Where(id => id > first).Distinct().Order().ToList();
        return (later.Take(told).ToHashSet(), later.Skip(told).ToList());
    }
}
