using Slipway.Core.Pipelines;

namespace Slipway.Core.Tests.Pipelines;

public class GlobTests
{
    [Theory]
    [InlineData("main", "main", true)]
    [InlineData("main", "mainline", false)]
    [InlineData("release/*", "release/1.4", true)]
    [InlineData("release/*", "release/1.4/x", false)]
    [InlineData("release/*", "release", false)]
    [InlineData("feature/**", "feature/a", true)]
    [InlineData("feature/**", "feature/a/b/c", true)]
    [InlineData("feature/**", "bugfix/a", false)]
    [InlineData("out/**", "out/a", true)]
    [InlineData("out/**", "out/a/b/c.txt", true)]
    [InlineData("**/*.xml", "a.xml", true)]
    [InlineData("**/*.xml", "x/y/a.xml", true)]
    [InlineData("**/*.xml", "x/y/a.json", false)]
    [InlineData("a/**/b", "a/b", true)]
    [InlineData("a/**/b", "a/x/y/b", true)]
    [InlineData("a/**/b", "a/x/y/c", false)]
    [InlineData("test-results/*.xml", "test-results/unit.xml", true)]
    [InlineData("test-results/*.xml", "test-results/sub/unit.xml", false)]
    [InlineData("*", "", true)]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", ".txt", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("?", "a", true)]
    [InlineData("?", "", false)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("v[0-9].x", "v7.x", true)]
    [InlineData("v[0-9].x", "va.x", false)]
    [InlineData("[abc]", "b", true)]
    [InlineData("[!a]", "b", true)]
    [InlineData("[!a]", "a", false)]
    [InlineData("[^a]", "a", false)]
    [InlineData("\\*", "*", true)]
    [InlineData("\\*", "a", false)]
    [InlineData("a**b", "aXYb", true)]
    [InlineData("a**b", "aX/Yb", false)]
    public void IsMatch_FollowsGlobRules(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Glob.IsMatch(pattern, path));

    [Theory]
    [InlineData("[ab", "unclosed '['")]
    [InlineData("a]", "unmatched ']'")]
    [InlineData("[]", "empty character class")]
    [InlineData("[z-a]", "invalid range 'z-a'")]
    [InlineData("a\\", "unfinished escape")]
    [InlineData("", "empty pattern")]
    public void TryValidate_RejectsBadSyntax(string pattern, string fragment)
    {
        Assert.False(Glob.TryValidate(pattern, out var error));
        Assert.Contains(fragment, error);
        Assert.False(Glob.IsMatch(pattern, "anything"));
    }

    [Theory]
    [InlineData("/abs", "absolute paths")]
    [InlineData("../x", "'..' segments")]
    [InlineData("a/../x", "'..' segments")]
    [InlineData("./x", "'.' segments")]
    [InlineData("a//b", "empty path segment")]
    [InlineData("a/", "empty path segment")]
    [InlineData("a/[b", "unclosed '['")]
    public void TryValidateRelativePath_RejectsPathsOutsideTheWorkspace(string pattern, string fragment)
    {
        Assert.False(Glob.TryValidateRelativePath(pattern, out var error));
        Assert.Contains(fragment, error);
    }

    [Theory]
    [InlineData("out/**")]
    [InlineData("**/*.xml")]
    [InlineData("bin/app-[0-9]*.tar.gz")]
    [InlineData("..hidden/x")]
    public void TryValidateRelativePath_AcceptsOrdinaryGlobs(string pattern) =>
        Assert.True(Glob.TryValidateRelativePath(pattern, out _));

    [Fact]
    public void ManyGlobstars_MatchInPolynomialTime()
    {
        var pattern = string.Join("/", Enumerable.Repeat("**", 30)) + "/z";
        var path = string.Join("/", Enumerable.Repeat("a", 200));
        Assert.False(Glob.IsMatch(pattern, path));
    }

    [Fact]
    public void IsMatch_IsThreadSafe()
    {
        Parallel.For(0, 2000, i => Assert.True(Glob.IsMatch($"p{i % 1500}/*", $"p{i % 1500}/x")));
    }
}
