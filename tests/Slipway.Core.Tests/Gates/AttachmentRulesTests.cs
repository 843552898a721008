using System.Text;
using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class AttachmentRulesTests
{
    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 16 }, "image/jpeg")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, "image/webp")]
    [InlineData(new byte[] { (byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-', (byte)'1' }, "application/pdf")]
    public void Sniff_KnowsTheAllowedKindsByTheirFirstBytes(byte[] head, string expected) => Assert.Equal(expected, AttachmentRules.Sniff(head));

    [Fact]
    public void Sniff_TakesPlainUtf8Text_AndRefusesBinaryOrInvalidText()
    {
        Assert.Equal("text/plain; charset=utf-8", AttachmentRules.Sniff(Encoding.UTF8.GetBytes("Findings:\n- coupon field\tüber")));
        Assert.Null(AttachmentRules.Sniff([0x00, 0x01, 0x02]));
        Assert.Null(AttachmentRules.Sniff([0xC3, 0x28]));
        Assert.Null(AttachmentRules.Sniff([]));
    }

    [Fact]
    public void Sniff_TreatsHtmlAsText_NeverAsAnImage()
    {
        // Served as text/plain and as a download (never inline), an HTML page cannot run in the server's origin.
        var kind = AttachmentRules.Sniff(Encoding.UTF8.GetBytes("<html><script>alert(1)</script></html>"));
        Assert.Equal("text/plain; charset=utf-8", kind);
        Assert.False(AttachmentRules.IsImage(kind!));
    }

    [Theory]
    [InlineData(null, "name the attachment")]
    [InlineData("../etc/passwd", "may not contain '/'")]
    [InlineData("a\"b.png", "may not contain")]
    [InlineData("basket.png", null)]
    public void CheckName_RefusesPathsAndQuotes(string? name, string? error)
    {
        var result = AttachmentRules.CheckName(name);
        if (error is null) Assert.Null(result);
        else Assert.Contains(error, result);
    }
}
