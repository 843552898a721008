
namespace Slipway.Server.Tests.Access;

public sealed class SignInThrottleTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
        public void Advance(TimeSpan by) => Now += by;
    }

    private readonly ManualClock _clock = new();
    private readonly SignInThrottle _throttle;

    public SignInThrottleTests() =>
        _throttle = new SignInThrottle(new ServerOptions { SignInFailuresPerAccount = 5, SignInFailuresPerAddress = 20 }, _clock);

    private void Fail(string account, string address, int times, TimeSpan? apart = null)
    {
        for (var i = 0; i < times; i++)
        {
            _throttle.RecordFailure(account, address);
            if (apart is { } gap) _clock.Advance(gap);
        }
    }

    [Fact]
    public void FourFailures_AreNotThrottled_TheFifthIs()
    {
        Fail("ann", "10.0.0.1", 4);
        Assert.Null(_throttle.RetryAfter("ann", "10.0.0.1"));

        Fail("ann", "10.0.0.1", 1);
        Assert.Equal(SignInThrottle.Window, _throttle.RetryAfter("ann", "10.0.0.1"));
    }

    [Fact]
    public void AccountLimit_HoldsFromAnyAddress_AndIgnoresCase()
    {
        Fail("ann", "10.0.0.1", 5);

        Assert.NotNull(_throttle.RetryAfter("ann", "192.168.1.9"));
        Assert.NotNull(_throttle.RetryAfter("ANN", "192.168.1.9"));
        Assert.Null(_throttle.RetryAfter("bob", "192.168.1.9"));
    }

    [Fact]
    public void TheWindowSlides_OneFailureExpiresAtATime()
    {
        Fail("ann", "10.0.0.1", 5, apart: TimeSpan.FromMinutes(1)); // at 0, 1, 2, 3, 4 minutes; now 5
        Assert.Equal(TimeSpan.FromMinutes(10), _throttle.RetryAfter("ann", "10.0.0.1"));

        _clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(1), _throttle.RetryAfter("ann", "10.0.0.1"));

        _clock.Advance(TimeSpan.FromMilliseconds(1)); // the first failure leaves the window
        Assert.Null(_throttle.RetryAfter("ann", "10.0.0.1"));

        Fail("ann", "10.0.0.1", 1); // back at the limit: now wait for the second-oldest (minute 1) to expire
        Assert.Equal(TimeSpan.FromMinutes(1), _throttle.RetryAfter("ann", "10.0.0.1"));
    }

    [Fact]
    public void AfterTheWholeWindow_EverythingIsForgotten()
    {
        Fail("ann", "10.0.0.1", 50);
        _clock.Advance(SignInThrottle.Window);

        Assert.Null(_throttle.RetryAfter("ann", "10.0.0.1"));
    }

    [Fact]
    public void AddressLimit_CountsFailuresAcrossAccounts()
    {
        for (var i = 0; i < 19; i++) Fail($"user{i}", "10.0.0.7", 1);
        Assert.Null(_throttle.RetryAfter("fresh", "10.0.0.7"));

        Fail("user19", "10.0.0.7", 1);
        Assert.Equal(SignInThrottle.Window, _throttle.RetryAfter("fresh", "10.0.0.7"));
        Assert.Null(_throttle.RetryAfter("fresh", "10.0.0.8"));
    }

    [Fact]
    public void ASuccess_ClearsTheAccount_ButNotTheAddress()
    {
        Fail("ann", "10.0.0.1", 4);
        for (var i = 0; i < 16; i++) Fail($"other{i}", "10.0.0.1", 1); // 20 from this address in all

        _throttle.RecordSuccess("ANN");

        Assert.Null(_throttle.RetryAfter("ann", "10.0.0.2"));
        Assert.NotNull(_throttle.RetryAfter("ann", "10.0.0.1"));
    }

    [Fact]
    public void TheLongerOfTheTwoWaits_IsReported()
    {
        Fail("ann", "10.0.0.1", 5);                          // account full at minute 0
        _clock.Advance(TimeSpan.FromMinutes(5));
        for (var i = 0; i < 20; i++) Fail($"x{i}", "10.0.0.9", 1); // address full at minute 5

        Assert.Equal(TimeSpan.FromMinutes(15), _throttle.RetryAfter("ann", "10.0.0.9"));
        Assert.Equal(TimeSpan.FromMinutes(10), _throttle.RetryAfter("ann", "10.0.0.1"));
    }
}
