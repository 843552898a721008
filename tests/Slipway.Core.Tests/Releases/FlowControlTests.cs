using Slipway.Core.Pipelines;
using Slipway.Core.Releases;
using Slipway.Core.Runs;
using Slipway.Core.Secrets;

namespace Slipway.Core.Tests.Releases;

/// <summary>The pure rules that keep a branch from releasing itself, from moving release tags, and from protected values.</summary>
public sealed class FlowControlTests
{
    private static readonly string[] Main = ["main"];
    private static readonly string[] V = ["v*"];

    [Theory]
    // run branch, protected, file's release.branch (null: no section), releases?, warning fragment (null: none)
    [InlineData("main", true, "main", true, null)]
    [InlineData("main", true, null, false, null)]
    [InlineData("feature/x", false, "main", false, null)] // the ordinary case: a branch made from main
    [InlineData("feature/x", false, "feature/x", false, "names this branch ('feature/x'), which is not one of the project's release branches (main)")]
    [InlineData("feature/x", false, "staging", false, "release.branch 'staging' in the pipeline file is ignored: it is not one of the project's release branches (main)")]
    [InlineData("main", true, "feature/x", true, "release.branch 'feature/x' in the pipeline file is ignored")]
    [InlineData("main", true, "", true, null)]          // no release.branch: the settings decide, nothing to warn about
    [InlineData("feature/x", false, "", false, null)]
    public void Decide_ReleasesOnlyOnConfiguredProtectedBranches_AndWarnsWhenTheFileDisagrees(string branch, bool isProtected, string? fileBranch,
        bool releases, string? warning)
    {
        var release = fileBranch is null ? null : new ReleaseDefinition(fileBranch.Length == 0 ? null : fileBranch, "1.{run}");

        var decision = ReleaseBranches.Decide(branch, isProtected, release, Main, V);

        Assert.Equal(releases, decision.Releases);
        if (warning is null) Assert.Empty(decision.Warnings);
        else Assert.Contains(warning, Assert.Single(decision.Warnings));
    }

    [Fact]
    public void Decide_ASecondReleaseBranch_ReleasesWithItsInheritedFile_ButAnUnprotectedOneNever()
    {
        string[] configured = ["main", "release/2.x"];
        var inherited = new ReleaseDefinition("main", "2.{run}");

        var onRelease = ReleaseBranches.Decide("release/2.x", true, inherited, configured, V);
        var unprotected = ReleaseBranches.Decide("release/2.x", false, inherited, configured, V);

        Assert.True(onRelease.Releases);
        Assert.Contains("this run releases because 'release/2.x' is one of the project's release branches (main, release/2.x)", Assert.Single(onRelease.Warnings));
        Assert.False(unprotected.Releases);
        Assert.Contains(unprotected.Warnings, w => w.Contains("is set to release but is not protected"));
    }

    [Theory]
    [InlineData("v*", null)]
    [InlineData("v1.*", null)]
    [InlineData("v[0-9]*", null)]
    [InlineData("*", "release.tag '*' is not covered by the project's protected tag patterns (v*)")]
    [InlineData("[vV]*", "not covered")]
    [InlineData("rel-*", "not covered")]
    public void Decide_WarnsWhenTheReleaseTagPatternIsNotProtected(string tagPattern, string? warning)
    {
        var decision = ReleaseBranches.Decide("main", true, new ReleaseDefinition("main", "{tag}", tagPattern), Main, V);

        if (warning is null) Assert.Empty(decision.Warnings);
        else Assert.Contains(warning, Assert.Single(decision.Warnings));
    }

    [Theory]
    [InlineData("v*", "v9.9.9", true)]
    [InlineData("v*", "v1/evil", true)] // '*' crosses '/', as git describe --match does: protect more, not less
    [InlineData("v*", "V1.0", false)]
    [InlineData("v*", "release-1", false)]
    [InlineData("v?.?", "v1.2", true)]
    [InlineData("v[0-9]*", "vx", false)]
    [InlineData("v[!0-9]*", "vx", true)]
    [InlineData("v\\*", "v*", true)]
    [InlineData("v\\*", "v1", false)]
    [InlineData("rel[", "rel[", false)] // invalid: matches nothing (and is refused when set)
    public void TagPatterns_MatchAsGitDescribeDoes(string pattern, string tag, bool matches) =>
        Assert.Equal(matches, ProtectedTags.Matches(pattern, tag));

    [Theory]
    // tag, created, deleted, may create (repo.protect), refusal fragment (null: allowed)
    [InlineData("v9.9.9", true, false, false, "tag 'v9.9.9' is protected (release tags matching 'v*'): only users who may protect branches (repo.protect) can create it")]
    [InlineData("v9.9.9", true, false, true, null)]
    [InlineData("v9.9.9", false, false, true, "it cannot be moved")]
    [InlineData("v9.9.9", false, true, true, "it cannot be deleted")]
    [InlineData("nightly", false, true, false, null)]
    public void TagPush_ProtectedTagsAreCreatedOnlyWithRepoProtect_NeverMovedOrDeleted(string tag, bool created, bool deleted, bool mayCreate, string? refusal)
    {
        var answer = ProtectedTags.CheckPush(tag, created, deleted, mayCreate, V);

        if (refusal is null) Assert.Null(answer);
        else Assert.Contains(refusal, answer);
    }

    [Theory]
    [InlineData("v*", null)]
    [InlineData("rel[", "unclosed")]
    [InlineData("-v*", "invalid tag pattern")]
    [InlineData("v *", "invalid tag pattern")]
    public void TagPatterns_AreCheckedWhenSet(string pattern, string? error)
    {
        if (error is null) Assert.Null(ProtectedTags.CheckPattern(pattern));
        else Assert.Contains(error, ProtectedTags.CheckPattern(pattern));
    }

    [Theory]
    // requested, secret, existing (null: new), expected
    [InlineData(null, true, null, true)]      // a new secret is protected
    [InlineData(null, false, null, false)]    // a new plain variable is not
    [InlineData(false, true, null, false)]    // unless told
    [InlineData(true, false, null, true)]
    [InlineData(null, false, "plain,protected", true)]   // changing the value keeps the flag
    [InlineData(null, true, "secret,unprotected", false)]
    [InlineData(null, true, "plain,unprotected", true)]  // becoming a secret makes it protected
    [InlineData(null, false, "secret,protected", true)]
    public void ProtectedFlag_DefaultsByKind_AndIsKeptOnChange(bool? requested, bool secret, string? existing, bool expected)
    {
        (bool, bool)? before = existing is null ? null : (existing.StartsWith("secret"), existing.EndsWith(",protected"));
        Assert.Equal(expected, VariableProtection.Resolve(requested, secret, before));
    }

    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(false, false, false)]
    public void ProtectedValues_ReachDeploymentsAndProtectedBranchesOnly(bool deployment, bool branchProtected, bool may) =>
        Assert.Equal(may, VariableProtection.MayReceiveProtected(deployment, branchProtected));

    [Fact]
    public void APlanOnAnUnprotectedBranch_ListingAProtectedSecret_IsRefused_ButNotInAStageItsFilterSkips()
    {
        JobDefinition Job(string name, params string[] secrets) =>
            new(name, "true", new Dictionary<string, string>(), "build", [], [], [], TimeSpan.FromMinutes(1), 0, secrets);
        var pipeline = new PipelineDefinition(new Dictionary<string, string>(),
        [
            new StageDefinition("test", null, new Dictionary<string, string>(), [Job("leak", "DEPLOY_KEY", "NPM"), Job("unit")]),
            new StageDefinition("publish", new BranchFilter(["main"]), new Dictionary<string, string>(), [Job("publish", "DEPLOY_KEY")]),
        ]);
        var protectedSecrets = new HashSet<string> { "DEPLOY_KEY" };

        var onBranch = VariableProtection.Violations(RunPlanner.Plan(pipeline, "feature/x"), "feature/x", false, protectedSecrets);
        var onMain = VariableProtection.Violations(RunPlanner.Plan(pipeline, "main"), "main", true, protectedSecrets);

        Assert.Equal(["protected-secret: job 'leak' lists secret 'DEPLOY_KEY', which is protected; protected values are given only to runs of " +
                      "protected branches and to deployments, and branch 'feature/x' is not protected"], onBranch);
        Assert.Empty(onMain);
    }

    [Fact]
    public void Branches_DefaultIsAlwaysProtected_OthersWhenMarked()
    {
        Assert.True(ReleaseBranches.IsProtected("main", "main", []));
        Assert.True(ReleaseBranches.IsProtected("release/2", "main", ["release/2"]));
        Assert.False(ReleaseBranches.IsProtected("feature/x", "main", ["release/2"]));
        Assert.Equal("commit-on-branch: commit 0123456789ab is not on branch 'main' (not the head or one of its ancestors)",
            ReleaseBranches.NotOnBranch("0123456789abcdef0123456789abcdef01234567", "main"));
    }
}
