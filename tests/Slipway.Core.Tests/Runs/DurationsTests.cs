using Slipway.Core.Runs;

namespace Slipway.Core.Tests.Runs;

public sealed class DurationsTests
{
    [Theory]
    [InlineData(0.42, "0.4s")]
    [InlineData(9.96, "10.0s")]
    [InlineData(12.9, "12s")]
    [InlineData(185, "3m 05s")]
    [InlineData(3725, "1h 02m")]
    public void Format_IsShortAndReadable(double seconds, string expected) =>
        Assert.Equal(expected, Durations.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Of_IsNullBeforeTheStart_RunsToNowWhileGoing_AndNeverNegative()
    {
        var start = new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);
        Assert.Null(Durations.Of(null, null, start));
        Assert.Equal(TimeSpan.FromSeconds(30), Durations.Of(start, null, start.AddSeconds(30)));
        Assert.Equal(TimeSpan.FromSeconds(5), Durations.Of(start, start.AddSeconds(5), start.AddHours(1)));
        Assert.Equal(TimeSpan.Zero, Durations.Of(start, start.AddSeconds(-1), start)); // clocks of two servers
    }
}
