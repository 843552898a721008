using Slipway.Core.Checks;

namespace Slipway.Core.Tests.Checks;

public class AlertDeliveryRuleTests
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(200)]
    [InlineData(204)]
    public void A2xx_Delivers_EvenOnTheLastAttempt(int status)
    {
        Assert.Equal(AlertNextStep.End(AlertDeliveryStates.Delivered), AlertDeliveryRule.After(1, 6, First, status));
        Assert.Equal(AlertNextStep.End(AlertDeliveryStates.Delivered), AlertDeliveryRule.After(6, 6, First, status));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(410)]
    public void ARefusal_EndsAtOnce(int status) =>
        Assert.Equal(AlertNextStep.End(AlertDeliveryStates.Refused), AlertDeliveryRule.After(1, 6, First, status));

    [Theory]
    [InlineData(null)]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(302)] // redirects are not followed: an alert goes only where an admin pointed it
    public void NoAnswer_ARateLimit_OrAServerError_IsTriedAgain_WithTheWaitDoubled(int? status)
    {
        Assert.Equal(AlertNextStep.Retry(TimeSpan.FromSeconds(2)), AlertDeliveryRule.After(1, 6, First, status));
        Assert.Equal(AlertNextStep.Retry(TimeSpan.FromSeconds(4)), AlertDeliveryRule.After(2, 6, First, status));
        Assert.Equal(AlertNextStep.Retry(TimeSpan.FromSeconds(32)), AlertDeliveryRule.After(5, 6, First, status));
        Assert.Equal(AlertNextStep.End(AlertDeliveryStates.GaveUp), AlertDeliveryRule.After(6, 6, First, status));
    }

    [Fact]
    public void OneAttemptInAll_GivesUpAfterIt() =>
        Assert.Equal(AlertNextStep.End(AlertDeliveryStates.GaveUp), AlertDeliveryRule.After(1, 1, First, 500));

    [Fact]
    public void TheWait_NeverExceedsAnHour_HoweverManyAttempts()
    {
        Assert.Equal(AlertNextStep.Retry(AlertDeliveryRule.LongestWait), AlertDeliveryRule.After(40, 100, First, 500));
        Assert.Equal(AlertNextStep.Retry(AlertDeliveryRule.LongestWait), AlertDeliveryRule.After(2000, 5000, First, null));
    }

    [Fact]
    public void AttemptsCountFromOne() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AlertDeliveryRule.After(0, 6, First, 500));
}
