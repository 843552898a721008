using Slipway.Core.WorkItems;

namespace Slipway.Core.Tests.WorkItems;

public sealed class KeyFinderTests
{
    private static string Find(string text, string prefix = "SHOP") => string.Join(",", KeyFinder.Find(text, KeyPattern.Default, prefix).Keys);

    [Theory]
    [InlineData("feature/SHOP-42-cart-total", "SHOP-42")]
    [InlineData("shop-42", "SHOP-42")]
    [InlineData("bugfix/Shop-7_typo", "SHOP-7")]
    [InlineData("Fix SHOP-1 and SHOP-2, again SHOP-1", "SHOP-1,SHOP-2")]
    [InlineData("SHOP-3 (see OPS2-9)", "SHOP-3")]
    [InlineData("[SHOP-5]: done.", "SHOP-5")]
    [InlineData("line one\nRefs: SHOP-999999999", "SHOP-999999999")]
    [InlineData("XSHOP-1", "")]
    [InlineData("SHOP-1x", "")]
    [InlineData("SHOP1-1", "")]
    [InlineData("SHOP-1234567890123", "")]
    [InlineData("SHOP-0", "")]
    [InlineData("SHOP-042", "")]
    [InlineData("SHOP-", "")]
    [InlineData("OTHER-4", "")]
    [InlineData("", "")]
    [InlineData("v1-SHOP-2", "SHOP-2")]
    [InlineData("SHOP-2-SHOP-3", "SHOP-2,SHOP-3")]
    public void Find_WithTheDefaultPattern_ReturnsWordBoundedKeysOfTheProject_OnceInOrder(string text, string expected) =>
        Assert.Equal(expected, Find(text));

    [Fact]
    public void Find_WithTheDefaultPattern_TakesPrefixesWithDigits() => Assert.Equal("OPS2-9", Find("SHOP-3 (see ops2-9)", "OPS2"));

    [Fact]
    public void Find_OverBranchAndMessage_DeDuplicates()
    {
        var found = KeyFinder.Find(["feature/SHOP-1-cart", "SHOP-1: cart total\n\nalso shop-2"], KeyPattern.Default, "SHOP");

        Assert.Equal(["SHOP-1", "SHOP-2"], found.Keys.Select(k => k.ToString()));
        Assert.False(found.TimedOut);
    }

    [Theory]
    [InlineData("SHOP", null)]
    [InlineData("A1", null)]
    [InlineData("ABCDEFGHIJ", null)]
    [InlineData("S", "long")]
    [InlineData("ABCDEFGHIJK", "long")]
    [InlineData("shop", "start")]
    [InlineData("1SHOP", "start")]
    [InlineData("SH-OP", "only")]
    [InlineData("SHÖP", "only")]
    [InlineData("", "empty")]
    public void CheckPrefix_AcceptsOnlyUpperCaseLettersAndDigits(string prefix, string? errorContains)
    {
        var error = WorkItemKey.CheckPrefix(prefix);

        if (errorContains is null) Assert.Null(error);
        else Assert.Contains(errorContains, error);
    }

    [Theory]
    [InlineData("SHOP-42", "SHOP-42")]
    [InlineData("shop-42", "SHOP-42")]
    [InlineData("SHOP-042", null)]
    [InlineData("SHOP42", null)]
    [InlineData("S-1", null)]
    public void TryParse_NormalisesOrRefuses(string text, string? expected)
    {
        var ok = WorkItemKey.TryParse(text, out var key);

        Assert.Equal(expected is not null, ok);
        if (ok) Assert.Equal(expected, key.ToString());
    }
}
