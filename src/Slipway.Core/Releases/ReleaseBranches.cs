using Slipway.Core.Pipelines;

namespace Slipway.Core.Releases;

/// <summary>
/// Which runs make a release. The branches that release are the project's server-side configuration (default: the
/// default branch), never the pipeline file: a branch's file is written by whoever pushes the branch, so a
/// <c>release.branch</c> in it could make any branch release itself. Only protected branches can release (the
/// default branch always is; others once an admin protects them), so what reaches a release went through a merge.
/// The file still supplies the version template (and tag pattern) and the <c>deploy:</c> section, read from the
/// commit that is released, which is on the release branch. Pure.
/// </summary>
public static class ReleaseBranches
{
    public const int MaxBranches = 20;
    public const int MaxTagPatterns = 20;

    /// <summary>The release tags protected when a project has set none.</summary>
    public static readonly IReadOnlyList<string> DefaultProtectedTags = ["v*"];

    /// <summary>Whether <paramref name="branch"/> is protected: the default branch, or one an admin marked.</summary>
    public static bool IsProtected(string branch, string defaultBranch, IEnumerable<string> marked) =>
        branch == defaultBranch || marked.Contains(branch, StringComparer.Ordinal);

    /// <summary>Whether a run on <paramref name="branch"/> makes a release: a configured release branch that is also protected.</summary>
    public static bool Releases(string branch, bool branchProtected, IReadOnlyCollection<string> releaseBranches) =>
        branchProtected && releaseBranches.Contains(branch, StringComparer.Ordinal);

    /// <summary>
    /// What a run on <paramref name="branch"/> does about releases: whether it releases (it has a <c>release:</c>
    /// section and its branch releases), and the warnings it carries when its file says something the server ignores:
    /// a <c>release.branch</c> that is not a release branch (a branch naming itself, the attack), or another branch
    /// than the one releasing; a release branch that is not protected; a <c>release.tag</c> pattern that the
    /// project's protected tag patterns do not cover (anyone who may push could make the tag that names the version).
    /// </summary>
    public static ReleaseDecision Decide(string branch, bool branchProtected, ReleaseDefinition? release,
        IReadOnlyCollection<string> releaseBranches, IReadOnlyCollection<string> protectedTags)
    {
        var configured = releaseBranches.Contains(branch, StringComparer.Ordinal);
        var releases = release is not null && Releases(branch, branchProtected, releaseBranches);
        var warnings = new List<string>();
        var list = string.Join(", ", releaseBranches);
        if (configured && !branchProtected)
            warnings.Add($"branch '{branch}' is set to release but is not protected; only protected branches release, so this run makes no release");
        if (release is null) return new ReleaseDecision(false, warnings);
        if (release.Branch is null) { } // the file leaves it to the project's settings, as it should
        else if (!releaseBranches.Contains(release.Branch, StringComparer.Ordinal))
            warnings.Add(release.Branch == branch
                ? $"release.branch in the pipeline file names this branch ('{branch}'), which is not one of the project's release branches ({list}); " +
                  "the project's settings decide which branches release, not the file, so this run makes no release"
                : $"release.branch '{release.Branch}' in the pipeline file is ignored: it is not one of the project's release branches ({list}), " +
                  "which the project's settings decide");
        else if (configured && release.Branch != branch)
            warnings.Add($"release.branch '{release.Branch}' in the pipeline file is ignored: this run releases because '{branch}' is one of " +
                         $"the project's release branches ({list})");
        if (releases && release.TagPattern is { } tag && !ProtectedTags.Covers(protectedTags, tag))
            warnings.Add($"release.tag '{tag}' is not covered by the project's protected tag patterns " +
                         $"({(protectedTags.Count == 0 ? "none" : string.Join(", ", protectedTags))}): anyone who may push could create a tag " +
                         "that sets this release's version; protect the pattern with the project's release settings");
        return new ReleaseDecision(releases, warnings);
    }

    /// <summary>The refusal of a commit that is not the head of <paramref name="branch"/> or one of its ancestors.</summary>
    public static string NotOnBranch(string commit, string branch) =>
        $"commit-on-branch: commit {commit[..Math.Min(12, commit.Length)]} is not on branch '{branch}' (not the head or one of its ancestors)";

    /// <summary>The refusal of a release from a run on a branch that does not release.</summary>
    public static string NotAReleaseBranch(long runNumber, string branch, IReadOnlyCollection<string> releaseBranches) =>
        $"release-branch: run #{runNumber} is on branch '{branch}', which is not one of the project's release branches " +
        $"({string.Join(", ", releaseBranches)}); releases are made only from protected release branches";
}

/// <param name="Releases">Whether a green run makes a release (its version template comes from its file).</param>
/// <param name="Warnings">Shown on the run; none when the file agrees with the project's settings.</param>
public sealed record ReleaseDecision(bool Releases, IReadOnlyList<string> Warnings);
