using Slipway.Server.Hosting;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>The console log's format: JSON for a collector (stdout redirected), text at a terminal, or as SLIPWAY_LOG_FORMAT says.</summary>
public sealed class LogFormatTests
{
    [Theory]
    [InlineData(null, true, false)]    // systemd, a container, a file: JSON lines
    [InlineData(null, false, true)]    // ./start.sh at a terminal: text
    [InlineData("", false, true)]
    [InlineData("json", false, false)]
    [InlineData(" TEXT ", true, true)]
    public void TheFormat_FollowsTheTerminal_UnlessTold(string? setting, bool redirected, bool text) =>
        Assert.Equal(text, SlipwayServer.LogsAsText(setting, redirected));

    [Fact]
    public void AnUnknownFormat_IsRefusedNamingTheChoices() =>
        Assert.Equal("SLIPWAY_LOG_FORMAT is 'xml'; set it to json or text",
            Assert.Throws<ArgumentException>(() => SlipwayServer.LogsAsText("xml", true)).Message);
}
