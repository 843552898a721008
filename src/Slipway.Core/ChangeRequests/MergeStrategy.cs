namespace Slipway.Core.ChangeRequests;

/// <summary>
/// How a change request's commits reach the target branch. <see cref="Merge"/>: a merge commit with the target's
/// head and the source's head as parents (history kept). <see cref="Squash"/>: one new commit on the target with
/// the merged tree. <see cref="FastForward"/>: the target moves to the source head; only possible when the target
/// has not moved since the source branched from it.
/// </summary>
public enum MergeStrategy { Merge, Squash, FastForward }

public static class MergeStrategies
{
    /// <summary>The wire name: <c>merge</c>, <c>squash</c>, <c>fast-forward</c>.</summary>
    public static string Name(this MergeStrategy strategy) => strategy switch
    {
        MergeStrategy.Merge => "merge",
        MergeStrategy.Squash => "squash",
        MergeStrategy.FastForward => "fast-forward",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    public static readonly IReadOnlyList<MergeStrategy> All = Enum.GetValues<MergeStrategy>();

    /// <summary>Parses a wire name (<c>ff</c> is accepted for fast-forward); throws <see cref="ArgumentException"/> naming the choices.</summary>
    public static MergeStrategy Parse(string? name)
    {
        if (name == "ff") return MergeStrategy.FastForward;
        foreach (var s in All) if (s.Name() == name) return s;
        throw new ArgumentException($"unknown merge strategy '{name}'; strategies are {string.Join(", ", All.Select(s => s.Name()))}");
    }
}
