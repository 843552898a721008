namespace Slipway.Core.Nodes;

/// <summary>A duty's lease as stored: who holds it (null when released), its fencing token and when it ends (unix ms, the database's clock).</summary>
public sealed record DutyLease(string Duty, string? Holder, long FencingToken, long ExpiresAt);

/// <summary>What a node does about one duty's lease at a look.</summary>
public enum DutyStep
{
    /// <summary>Free, released or expired: take it over (the fencing token goes up by one).</summary>
    Acquire,
    /// <summary>Held by this node and past half its time: extend it (same token).</summary>
    Renew,
    /// <summary>Held by this node with more than half its time left: nothing to write.</summary>
    Keep,
    /// <summary>Held by this node, which is draining: give it up now so another node takes it at once.</summary>
    Release,
    /// <summary>Held by another node and unexpired, or this node drains and does not hold it: leave it alone.</summary>
    Standby,
}

/// <summary>
/// The leader-lease rules of the once-only duties, pure: the server reads a lease row and the database's "now", asks
/// <see cref="Decide"/>, then makes the matching conditional write (which re-checks the same condition, so two nodes
/// deciding at once cannot both win). All times are unix milliseconds on the database's clock, so nodes whose own clocks
/// disagree still agree on when a lease ends; a node measures the time left as a duration, never against its own clock.
/// </summary>
public static class DutyLeaseRules
{
    /// <param name="lease">The stored row, or null when the duty was never taken.</param>
    public static DutyStep Decide(DutyLease? lease, string node, long now, TimeSpan leaseTime, bool draining)
    {
        var mine = lease is { Holder: { } holder } && holder == node;
        var expired = lease is null || lease.Holder is null || lease.ExpiresAt <= now;
        if (draining) return mine && !expired ? DutyStep.Release : DutyStep.Standby;
        if (expired) return DutyStep.Acquire;
        if (!mine) return DutyStep.Standby;
        return lease!.ExpiresAt - now < leaseTime.TotalMilliseconds / 2 ? DutyStep.Renew : DutyStep.Keep;
    }

    /// <summary>
    /// The time left below which a pass is not started: a fifth of the lease (3 s of the default 15). A pass started
    /// with less could see its lease end half-way, and its later writes refused; renewal (at half the lease) keeps a
    /// healthy holder well above it.
    /// </summary>
    public static TimeSpan SafetyMargin(TimeSpan leaseTime) => leaseTime / 5;

    /// <summary>Whether a pass of a held duty may start with <paramref name="remaining"/> of its lease left.</summary>
    public static bool MayStartPass(TimeSpan remaining, TimeSpan leaseTime) => remaining >= SafetyMargin(leaseTime);

    /// <summary>How often a node looks at its leases: a fifth of the lease, so a renewal due at half-time is made with two looks to spare.</summary>
    public static TimeSpan LookInterval(TimeSpan leaseTime) => leaseTime / 5;
}
