namespace Slipway.Core.Checks;

/// <summary>Where an alert's delivery stands (alert_deliveries.status).</summary>
public static class AlertDeliveryStates
{
    /// <summary>Waiting for its next attempt, or being attempted by a node right now.</summary>
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    /// <summary>The receiver answered a refusal (a 4xx other than 408 and 429): asking again would not help.</summary>
    public const string Refused = "refused";
    /// <summary>Every attempt failed (no answer, 5xx, 408 or 429).</summary>
    public const string GaveUp = "gave-up";
    /// <summary>Pushed out by newer alerts while more than the queue's capacity waited.</summary>
    public const string Dropped = "dropped";
}

/// <summary>What follows one delivery attempt: the state the delivery ends in, or the wait before the next attempt.</summary>
public sealed record AlertNextStep(string? FinalState, TimeSpan? RetryIn)
{
    public static AlertNextStep End(string state) => new(state, null);
    public static AlertNextStep Retry(TimeSpan wait) => new(null, wait);
}

/// <summary>
/// The retry rule of alert deliveries, apart from any I/O: a 2xx delivers; a refusal (4xx but 408 and 429) ends the
/// delivery at once; anything else (no answer, 5xx, 408, 429) is tried again after <c>firstRetryDelay</c>, doubled after
/// each attempt, until <c>attempts</c> attempts were made.
/// </summary>
public static class AlertDeliveryRule
{
    /// <summary>No wait between two attempts is longer, however large the attempt count (the doubling would overflow).</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);

    /// <param name="attempt">The attempt just made, 1 for the first.</param>
    /// <param name="attempts">How many attempts a delivery gets in all.</param>
    /// <param name="firstRetryDelay">The wait after the first failed attempt.</param>
    /// <param name="status">The receiver's HTTP status, or null when it did not answer (refused connection, timeout).</param>
    public static AlertNextStep After(int attempt, int attempts, TimeSpan firstRetryDelay, int? status)
    {
        if (attempt < 1) throw new ArgumentOutOfRangeException(nameof(attempt), attempt, "attempts count from 1");
        if (status is >= 200 and < 300) return AlertNextStep.End(AlertDeliveryStates.Delivered);
        if (status is >= 400 and < 500 and not (408 or 429)) return AlertNextStep.End(AlertDeliveryStates.Refused);
        if (attempt >= attempts) return AlertNextStep.End(AlertDeliveryStates.GaveUp);
        var wait = firstRetryDelay.Ticks * Math.Pow(2, attempt - 1);
        return AlertNextStep.Retry(wait >= LongestWait.Ticks ? LongestWait : TimeSpan.FromTicks((long)wait));
    }
}
