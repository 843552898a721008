using Slipway.Core.Pipelines;

namespace Slipway.Core.Tests.Pipelines;

public class DurationsAndSuggestionsTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("10m", 600)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1m30s", 90)]
    [InlineData("1h2m3s", 3723)]
    public void Durations_ParseUnits(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("10 m")]
    [InlineData("m")]
    [InlineData("30m1h")]
    [InlineData("1d")]
    [InlineData("-5m")]
    [InlineData("1.5h")]
    [InlineData("١٠m")] // Arabic-Indic digits are not accepted
    public void Durations_RejectMalformedText(string text) => Assert.False(Durations.TryParse(text, out _));

    [Theory]
    [InlineData(90, "1m30s")]
    [InlineData(5400, "1h30m")]
    [InlineData(86400, "24h")]
    public void Durations_FormatRoundTrips(int seconds, string text)
    {
        Assert.Equal(text, Durations.Format(TimeSpan.FromSeconds(seconds)));
        Assert.True(Durations.TryParse(text, out var back));
        Assert.Equal(TimeSpan.FromSeconds(seconds), back);
    }

    [Theory]
    [InlineData("stage", "stages")]
    [InlineData("artefacts", "artifacts")]
    [InlineData("timout", "timeout")]
    [InlineData("RUN", "run")]
    [InlineData("completely-different", null)]
    public void KeySuggestions_PickTheClosestKnownKey(string unknown, string? expected) =>
        Assert.Equal(expected, KeySuggestions.Closest(unknown, ["stages", "artifacts", "timeout", "run", "retry"]));
}
