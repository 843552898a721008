using Slipway.Testing;

namespace Slipway.Server.Tests.Access;

/// <summary>
/// The sign-in throttle on a real SQLite file and a real PostgreSQL, with a clock the test moves by hand; two throttle
/// instances on one database stand for two server nodes behind a balancer.
/// </summary>
[Collection("postgres")]
public sealed class SignInThrottleTests(PostgresFixture postgres) : IDisposable
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
        public void Advance(TimeSpan by) => Now += by;
    }

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private readonly TempDirectory _dir = new();
    private readonly ManualClock _clock = new();
    private SqlDatabase? _db;
    private SignInThrottle _throttle = null!;

    private async Task OpenAsync(string dialect)
    {
        _db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        _throttle = Node(_db);
    }

    private SignInThrottle Node(SqlDatabase db) =>
        new(db, new ServerOptions { SignInFailuresPerAccount = 5, SignInFailuresPerAddress = 20 }, _clock);

    private async Task Fail(string account, string address, int times, TimeSpan? apart = null)
    {
        for (var i = 0; i < times; i++)
        {
            await _throttle.RecordFailureAsync(account, address);
            if (apart is { } gap) _clock.Advance(gap);
        }
    }

    public void Dispose()
    {
        _db?.Dispose();
        _dir.Dispose();
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task FourFailures_AreNotThrottled_TheFifthIs(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 4);
        Assert.Null(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));

        await Fail("ann", "10.0.0.1", 1);
        Assert.Equal(SignInThrottle.Window, await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AccountLimit_HoldsFromAnyAddress_AndIgnoresCase(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 5);

        Assert.NotNull(await _throttle.RetryAfterAsync("ann", "192.168.1.9"));
        Assert.NotNull(await _throttle.RetryAfterAsync("ANN", "192.168.1.9"));
        Assert.Null(await _throttle.RetryAfterAsync("bob", "192.168.1.9"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TheWindowSlides_OneFailureExpiresAtATime(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 5, apart: TimeSpan.FromMinutes(1)); // at 0, 1, 2, 3, 4 minutes; now 5
        Assert.Equal(TimeSpan.FromMinutes(10), await _throttle.RetryAfterAsync("ann", "10.0.0.1"));

        _clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(1), await _throttle.RetryAfterAsync("ann", "10.0.0.1"));

        _clock.Advance(TimeSpan.FromMilliseconds(1)); // the first failure leaves the window
        Assert.Null(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));

        await Fail("ann", "10.0.0.1", 1); // back at the limit: now wait for the second-oldest (minute 1) to expire
        Assert.Equal(TimeSpan.FromMinutes(1), await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AfterTheWholeWindow_EverythingIsForgotten(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 50);
        _clock.Advance(SignInThrottle.Window);

        Assert.Null(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AddressLimit_CountsFailuresAcrossAccounts(string dialect)
    {
        await OpenAsync(dialect);
        for (var i = 0; i < 19; i++) await Fail($"user{i}", "10.0.0.7", 1);
        Assert.Null(await _throttle.RetryAfterAsync("fresh", "10.0.0.7"));

        await Fail("user19", "10.0.0.7", 1);
        Assert.Equal(SignInThrottle.Window, await _throttle.RetryAfterAsync("fresh", "10.0.0.7"));
        Assert.Null(await _throttle.RetryAfterAsync("fresh", "10.0.0.8"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ASuccess_ClearsTheAccount_ButNotTheAddress(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 4);
        for (var i = 0; i < 16; i++) await Fail($"other{i}", "10.0.0.1", 1); // 20 from this address in all

        await _throttle.RecordSuccessAsync("ANN");

        Assert.Null(await _throttle.RetryAfterAsync("ann", "10.0.0.2"));
        Assert.NotNull(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TheLongerOfTheTwoWaits_IsReported(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 5);                          // account full at minute 0
        _clock.Advance(TimeSpan.FromMinutes(5));
        for (var i = 0; i < 20; i++) await Fail($"x{i}", "10.0.0.9", 1); // address full at minute 5

        Assert.Equal(TimeSpan.FromMinutes(15), await _throttle.RetryAfterAsync("ann", "10.0.0.9"));
        Assert.Equal(TimeSpan.FromMinutes(10), await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ASuccessfulAttempt_IsUncountedForTheAddress_AndClearsTheAccount(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 4);
        Assert.Null(await _throttle.TryBeginAsync("ann", "10.0.0.1")); // the fifth attempt goes, counted until it succeeds
        Assert.NotNull(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
        await _throttle.SucceededAsync("ann", "10.0.0.1");
        Assert.Null(await _throttle.RetryAfterAsync("ann", "10.0.0.1"));
        for (var i = 0; i < 15; i++) await Fail($"other{i}", "10.0.0.1", 1);
        Assert.Null(await _throttle.RetryAfterAsync("fresh", "10.0.0.1")); // 4 + 15: under 20, the success was uncounted
        await Fail("other", "10.0.0.1", 1);
        Assert.NotNull(await _throttle.RetryAfterAsync("fresh", "10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TwoNodes_CountTheSameFailures_AndParallelGuessesThroughBoth_PassOnlyUpToTheLimit(string dialect)
    {
        await OpenAsync(dialect);
        var other = Node(_db!);
        await Fail("ann", "10.0.0.1", 3);
        Assert.Null(await other.RetryAfterAsync("ann", "10.0.0.1"));
        await other.RecordFailureAsync("ANN", "10.0.0.2");
        await other.RecordFailureAsync("ann", "10.0.0.3");
        Assert.Equal(SignInThrottle.Window, await _throttle.RetryAfterAsync("ann", "10.0.0.9")); // 3 + 2: full, seen by either node
        Assert.Equal(SignInThrottle.Window, await other.RetryAfterAsync("ann", "10.0.0.9"));

        // 40 guesses at once for a fresh account, half through each node: at most 5 go, whatever the interleaving (one that
        // finds another under way is told to retry in a second); then, one at a time, exactly the rest of the 5.
        var nodes = new[] { _throttle, other };
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => nodes[i % 2].TryBeginAsync("bob", $"10.1.0.{i}"))));
        var allowed = outcomes.Count(wait => wait is null);
        Assert.InRange(allowed, 1, 5);
        var later = 0;
        for (var i = 0; i < 10; i++)
            if (await nodes[i % 2].TryBeginAsync("bob", $"10.3.0.{i}") is null) later++;
        Assert.Equal(5 - allowed, later);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ExpiredFailures_AreDeleted_AnHourAfterTheWindow_AsNewAttemptsCome(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 30);
        Task<long> CountAsync() => _db!.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM sign_in_failures"));

        // Out of the window: no longer counted, but kept an hour more (a node whose clock runs ahead must not delete what is
        // still in the others' window).
        _clock.Advance(SignInThrottle.Window);
        Assert.Null(await _throttle.TryBeginAsync("ann", "10.0.0.1"));
        Assert.Equal(62, await CountAsync());

        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(await _throttle.TryBeginAsync("bob", "10.0.0.2"));
        Assert.Equal(4, await CountAsync()); // the two attempts since, each for its account and its address
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task TokenAttempts_AreCountedApartFromAnyAccount_NoTypedUsernameReachesThem(string dialect)
    {
        await OpenAsync(dialect);
        foreach (var typed in new[] { "token:10.0.0.1", "(token)10.0.0.1" }) await Fail(typed, "10.0.0.9", 5);
        Assert.Null(await _throttle.TryBeginTokenAsync("10.0.0.1"));
        for (var i = 0; i < 4; i++) Assert.Null(await _throttle.TryBeginTokenAsync("10.0.0.1"));
        Assert.Equal(SignInThrottle.Window, await _throttle.TryBeginTokenAsync("10.0.0.1")); // five token attempts from it
        Assert.Null(await _throttle.TryBeginAsync("ann", "10.0.0.2"));
        await _throttle.SucceededTokenAsync("10.0.0.1");
        Assert.Null(await _throttle.TryBeginTokenAsync("10.0.0.1"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ARefusedAttempt_WritesNothing_AndAHugeUsernameIsCountedWhole(string dialect)
    {
        await OpenAsync(dialect);
        await Fail("ann", "10.0.0.1", 5);
        var before = await _db!.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM sign_in_failures"));
        for (var i = 0; i < 20; i++) Assert.NotNull(await _throttle.TryBeginAsync("ann", "10.0.0.1"));
        Assert.Equal(before, await _db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM sign_in_failures")));

        // 191 letters and an emoji: cut at a fixed length it would split the emoji's surrogate pair (invalid UTF-8 for PostgreSQL).
        var huge = new string('a', 191) + "\U0001F600";
        for (var i = 0; i < 5; i++) Assert.Null(await _throttle.TryBeginAsync(huge, $"10.2.0.{i}"));
        Assert.NotNull(await _throttle.RetryAfterAsync(huge, "10.2.0.9"));
        Assert.Null(await _throttle.RetryAfterAsync(new string('a', 191) + "\U0001F601", "10.2.0.9")); // another name, another count
    }
}
