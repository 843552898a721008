using System.Diagnostics;
using Slipway.Core.WorkItems;

namespace Slipway.Core.Tests.WorkItems;

public sealed class KeyPatternTests
{
    private static KeyPattern Pattern(string text) =>
        KeyPattern.Parse(text, out var error) ?? throw new Xunit.Sdk.XunitException($"refused: {error}");

    private static string Find(string pattern, string text, string prefix = "SHOP") =>
        string.Join(",", KeyFinder.Find(text, Pattern(pattern), prefix).Keys);

    [Theory]
    [InlineData("[SHOP-42] cart total", "SHOP-42")]
    [InlineData("[shop-42][SHOP-7] and [SHOP-42]", "SHOP-42,SHOP-7")]
    [InlineData("SHOP-42 without brackets", "")]
    [InlineData("feature/SHOP-42-cart", "")]
    [InlineData("[OPS-1] another project's key", "")]
    [InlineData("[SHOP-042] [SHOP-0] [SHOP-1234567890]", "")]
    public void KeysOnlyInBrackets_AreFoundOnlyThere(string text, string expected) =>
        Assert.Equal(expected, Find(@"\[(?<key>[A-Za-z][A-Za-z0-9]*-[0-9]+)\]", text));

    [Theory]
    [InlineData("Cart total, fixes #42", "SHOP-42")]
    [InlineData("feature/#7-cart", "SHOP-7")]
    [InlineData("#1 #2 #1", "SHOP-1,SHOP-2")]
    [InlineData("SHOP-9 is not written the project's way", "")]
    [InlineData("#0 #042 #1234567890", "")]
    public void NumberOnlyPattern_MeansTheProjectsPrefix(string text, string expected) =>
        Assert.Equal(expected, Find(@"#(?<number>[0-9]+)\b", text));

    [Theory]
    [InlineData("SHOP_3 and OPS_4", "SHOP-3")]
    [InlineData("shop_5", "SHOP-5")]
    public void PrefixAndNumberGroups_CountOnlyTheProjectsPrefix_WhateverItsCase(string text, string expected) =>
        Assert.Equal(expected, Find(@"(?<prefix>[A-Za-z]+)_(?<number>[0-9]+)", text));

    [Fact]
    public void OptionalPrefixGroup_ThatTakesNoPart_MeansTheProjectsPrefix() =>
        Assert.Equal("SHOP-3,SHOP-4", Find(@"(?:(?<prefix>[A-Z]+)-)?#(?<number>[0-9]+)", "SHOP-#3, #4, OPS-#5"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(@"(?<![A-Za-z0-9])(?<prefix>[A-Za-z][A-Za-z0-9]{1,9})-(?<number>[0-9]+)(?![A-Za-z0-9])")]
    public void NoPatternOrTheDefaultsText_IsTheDefault(string? text)
    {
        var pattern = KeyPattern.Parse(text, out var error);

        Assert.Null(error);
        Assert.Same(KeyPattern.Default, pattern);
        Assert.True(pattern!.IsDefault);
    }

    [Theory]
    [InlineData("(?<key>SHOP-[0-9]+", "not a valid regular expression")]
    [InlineData(@"SHOP-[0-9]+", "must name what it finds: a group (?<key>...)")]
    [InlineData(@"(?<prefix>[A-Z]+)-[0-9]+", "has (?<prefix>...) but no (?<number>...)")]
    [InlineData(@"(?<key>[A-Z]+-[0-9]+)|#(?<number>[0-9]+)", "either (?<key>...) or (?<number>...)")]
    [InlineData(@"(?<key>(a+)+$)", "takes longer than 200 ms")]
    [InlineData(@"(?<number>([0-9]|[0-9]{1,2})+#)", "takes longer than 200 ms")]
    public void InvalidOrHostilePattern_IsRefusedWithAClearMessage(string text, string errorContains)
    {
        var pattern = KeyPattern.Parse(text, out var error);

        Assert.Null(pattern);
        Assert.Contains(errorContains, error);
    }

    [Fact]
    public void OverlongPattern_IsRefused()
    {
        Assert.Null(KeyPattern.Parse("(?<key>" + new string('a', KeyPattern.MaxLength) + ")", out var error));
        Assert.Contains($"longer than {KeyPattern.MaxLength} characters", error);
    }

    [Fact]
    public void PatternThatBacktracksOnlyOnSomeText_TimesOut_WithTheKeysFoundBefore_InBoundedTime()
    {
        // Passes the probe texts (none has an 'x'), but a run of x's without a 'y' makes it backtrack for ages.
        var pattern = Pattern(@"(?<key>[A-Z]+-[0-9]+)|(x+x+)+y");
        var clock = Stopwatch.StartNew();

        var found = KeyFinder.Find("SHOP-1 then " + new string('x', 64) + " and SHOP-2", pattern, "SHOP");

        Assert.True(found.TimedOut);
        Assert.Equal(["SHOP-1"], found.Keys.Select(k => k.ToString()));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void SearchOverManyTexts_StopsAtTheFirstTimeout_NotOneTimeoutPerText()
    {
        var pattern = Pattern(@"(?<key>[A-Z]+-[0-9]+)|(x+x+)+y");
        var hostile = Enumerable.Repeat(new string('x', 64), 100).Prepend("SHOP-3");
        var clock = Stopwatch.StartNew();

        var found = KeyFinder.Find(hostile, pattern, "SHOP");

        Assert.True(found.TimedOut);
        Assert.Equal(["SHOP-3"], found.Keys.Select(k => k.ToString()));
        Assert.True(clock.Elapsed < KeyFinder.SearchBudget + TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }
}
