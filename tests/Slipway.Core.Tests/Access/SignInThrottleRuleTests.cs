using Slipway.Core.Access;

namespace Slipway.Core.Tests.Access;

public class SignInThrottleRuleTests
{
    private const long Now = 10_000_000;
    private const long Minute = 60_000;

    [Fact]
    public void UnderTheLimit_NoWait() => Assert.Null(SignInThrottleRule.Wait([Now - 1, Now - 2, Now - 3, Now - 4], 5, Now));

    [Fact]
    public void AtTheLimit_WaitUntilTheOldestThatMustGo_LeavesTheWindow()
    {
        long[] failures = [Now - 4 * Minute, Now - Minute, Now - 3 * Minute, Now - 2 * Minute, Now]; // any order
        Assert.Equal(TimeSpan.FromMinutes(11), SignInThrottleRule.Wait(failures, 5, Now));
        Assert.Equal(TimeSpan.FromMinutes(12), SignInThrottleRule.Wait(failures, 4, Now)); // the second-oldest must go too
    }

    [Fact]
    public void FailuresOutOfTheWindow_CountForNothing() =>
        Assert.Null(SignInThrottleRule.Wait([Now - 15 * Minute, Now - 16 * Minute, Now - 1, Now - 2, Now - 3], 5, Now));

    [Fact]
    public void TheLongerWait_Wins() =>
        Assert.Equal((TimeSpan?)TimeSpan.FromMinutes(3), SignInThrottleRule.Longer(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(1)));
}
