using Slipway.Core.Pipelines;
using Slipway.Core.Releases;
using Slipway.Core.WorkItems;
using static Slipway.Core.Tests.Pipelines.LintAssert;

namespace Slipway.Core.Tests.Releases;

public class ReleaseCoreTests
{
    [Theory]
    [InlineData("1.4.{run}", 17, "1.4.17")]
    [InlineData("{run}", 3, "3")]
    [InlineData("v2-{run}-rc", 10, "v2-10-rc")]
    [InlineData("{run}.{run}", 5, "5.5")]
    public void Template_ExpandsTheRunNumber(string template, long run, string expected)
    {
        Assert.Null(VersionTemplate.Check(template));
        Assert.Equal(expected, VersionTemplate.Expand(template, run));
    }

    [Theory]
    [InlineData("1.4.0", "has no {run}")]
    [InlineData("1.{build}.{run}", "unknown placeholder {build}")]
    [InlineData("1 .{run}", "must give")]
    [InlineData("../{run}", "must give")]
    [InlineData("{RUN}", "has no {run}")]
    public void Template_IsRefused(string template, string fragment) =>
        Assert.Contains(fragment, VersionTemplate.Check(template));

    [Fact]
    public void Notes_AreGroupedByKind_InOrder_EmptyGroupsLeftOut()
    {
        var notes = ReleaseNotes.Generate("1.4.7",
        [
            new("SHOP-10", "Cart total", WorkItemKind.Feature),
            new("SHOP-2", "Crash on login", WorkItemKind.Bug),
            new("SHOP-9", "Search", WorkItemKind.Feature),
        ]);
        Assert.Equal("# Release 1.4.7\n\n## Features\n\n- SHOP-9: Search\n- SHOP-10: Cart total\n\n## Bug fixes\n\n- SHOP-2: Crash on login\n", notes);
    }

    [Fact]
    public void NoteGroups_ForTheWebPage_FollowTheNotesOrder_WithTitlesUnescaped()
    {
        var groups = ReleaseNotes.Group(
        [
            new("SHOP-3", "Tidy <up>", WorkItemKind.Chore),
            new("SHOP-10", "Cart total", WorkItemKind.Feature),
            new("SHOP-9", "Search", WorkItemKind.Feature),
        ]);
        Assert.Equal(["Features", "Chores"], groups.Select(g => g.Heading));
        Assert.Equal(["SHOP-9", "SHOP-10"], groups[0].Items.Select(i => i.Key));
        Assert.Equal("Tidy <up>", groups[1].Items.Single().Title); // the page escapes HTML itself; markdown escaping is for the notes only
    }

    [Fact]
    public void Notes_WithoutItems_SaySo() =>
        Assert.Equal("# Release 1\n\nNo work items since the previous release.\n", ReleaseNotes.Generate("1", []));

    [Fact]
    public void Notes_EscapeMarkupAndLineBreaks()
    {
        var notes = ReleaseNotes.Generate("1.0.1", [new("A-1", "<b>x</b>\n# [y](z)", WorkItemKind.Chore)]);
        Assert.Contains("## Chores\n\n- A-1: \\<b\\>x\\</b\\> \\# \\[y\\]\\(z\\)\n", notes);
    }

    [Fact]
    public void Pipeline_ReadsTheReleaseSection()
    {
        var p = Valid(Base + "release:\n  branch: main\n  version: \"1.4.{run}\"\n");
        Assert.Equal(new ReleaseDefinition("main", "1.4.{run}"), p.Release);
        Assert.Equal("1.4.12", p.Release!.VersionFor(12));
        Assert.Null(Valid(Base).Release);
        // Since issue 11 the branch is optional and informational: the project's settings say which branches release.
        Assert.Equal(new ReleaseDefinition(null, "1.{run}"), Valid(Base + "release:\n  version: \"1.{run}\"\n").Release);
    }

    [Fact]
    public void Pipeline_TakesTheVersionFromTheNewestMatchingTag()
    {
        var p = Valid(Base + "release:\n  branch: main\n  version: \"{tag}\"\n  tag: \"v*\"\n");
        Assert.Equal(new ReleaseDefinition("main", "{tag}", "v*"), p.Release);
        Assert.True(p.Release!.UsesTag);
        Assert.Equal("1.4.0", p.Release.VersionFor(7, "v1.4.0"));
        Assert.Equal("release-2", p.Release.VersionFor(7, "release-2"));
        Assert.Equal("2.0.0-rc.7", Valid(Base + "release:\n  branch: main\n  version: \"{tag}-rc.{run}\"\n  tag: \"v2.*\"\n").Release!.VersionFor(7, "v2.0.0"));
        Assert.Throws<ArgumentException>(() => p.Release.VersionFor(7));
    }

    [Theory]
    [InlineData("release:\n  branch: main\n  version: \"1.4.0\"\n", 8, 12, "release.version", "has no {run}")]
    [InlineData("release:\n  branch: main\n", 7, 3, "release.version", "missing required key 'version'")]
    [InlineData("release:\n  branch: \"release/*\"\n  version: \"{run}\"\n", 7, 11, "release.branch", "not a glob")]
    [InlineData("release:\n  branch: main\n  version: \"{run}\"\n  tag: \"v*\"\n", 9, 8, "release.tag", "does not use {tag}")]
    [InlineData("release:\n  branch: main\n  version: \"{tag}\"\n", 8, 12, "release.version", "name the tags to read it from with 'tag'")]
    [InlineData("release:\n  branch: main\n  version: \"{tag}\"\n  tag: \"-v*\"\n", 9, 8, "release.tag", "invalid tag pattern")]
    [InlineData("release:\n  branch: main\n  version: \"{run}-{commit}\"\n", 8, 12, "release.version", "only {run} and {tag}")]
    [InlineData("release:\n  branch: main\n  vesion: \"{run}\"\n", 8, 3, "release.vesion", "unknown key 'vesion'")]
    [InlineData("release: main\n", 6, 10, "release", "'release' must be a mapping")]
    public void Pipeline_ReleaseErrors_HaveLineAndColumn(string release, int line, int column, string path, string fragment) =>
        HasError(Base + release, line, column, path, fragment);
}
