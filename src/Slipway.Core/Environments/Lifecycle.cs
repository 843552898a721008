namespace Slipway.Core.Environments;

/// <summary>
/// The order environments come in (by position) and the rule that a release reaches an environment only after
/// succeeding on the one before it; optional environments may be skipped. Pure.
/// </summary>
public static class Lifecycle
{
    /// <summary>
    /// Null when <paramref name="release"/> may go to <paramref name="target"/>: walking back from the target, the
    /// nearest earlier environment where the release succeeded comes before any required (non-optional) one where it
    /// did not. Otherwise the message naming the environment it must succeed on first. The first environment takes any release.
    /// </summary>
    /// <param name="succeededOn">Names of the environments where this release has a successful deployment.</param>
    public static string? CheckOrder(IReadOnlyList<EnvironmentSettings> environments, string target, string release, IReadOnlySet<string> succeededOn)
    {
        var ordered = Ordered(environments);
        var index = ordered.FindIndex(e => e.Name == target);
        if (index < 0) throw new ArgumentException($"no environment '{target}'", nameof(target));
        for (var i = index - 1; i >= 0; i--)
        {
            if (succeededOn.Contains(ordered[i].Name)) return null;
            if (!ordered[i].Optional)
                return $"release {release} has not succeeded on '{ordered[i].Name}', which comes before '{target}' in the lifecycle";
        }
        return null;
    }

    /// <summary>
    /// The environment whose current release a promotion to <paramref name="target"/> takes: the nearest earlier one
    /// with a current successful release, skipping optional ones without. Null when there is none.
    /// </summary>
    /// <param name="currentRelease">The release currently (last successfully) deployed on each environment.</param>
    public static EnvironmentSettings? PromotionSource(IReadOnlyList<EnvironmentSettings> environments, string target,
        IReadOnlyDictionary<string, string> currentRelease)
    {
        var ordered = Ordered(environments);
        var index = ordered.FindIndex(e => e.Name == target);
        if (index < 0) throw new ArgumentException($"no environment '{target}'", nameof(target));
        for (var i = index - 1; i >= 0; i--)
        {
            if (currentRelease.ContainsKey(ordered[i].Name)) return ordered[i];
            if (!ordered[i].Optional) return null;
        }
        return null;
    }

    public static List<EnvironmentSettings> Ordered(IEnumerable<EnvironmentSettings> environments) =>
        environments.OrderBy(e => e.Position).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
}
