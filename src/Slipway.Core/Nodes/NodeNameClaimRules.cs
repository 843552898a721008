namespace Slipway.Core.Nodes;

/// <summary>What a starting node does when another database session holds its name's lock.</summary>
public enum HeldNameStep
{
    /// <summary>Look again shortly: the holder may be a process that is stopping or just died, or one that is starting.</summary>
    LookAgain,
    /// <summary>Another process runs under this name: refuse to start.</summary>
    Refuse,
    /// <summary>The holder is gone (its heartbeat is dead), only its session lingers (a lost machine's connection): start anyway.</summary>
    StartAnyway,
}

/// <summary>The name's row as a starting node sees it (times on the database's clock, unix ms).</summary>
public sealed record NameRow(long StartedAt, long HeartbeatAt, long? StoppedAt);

/// <summary>
/// Two processes must never run as one node: they would share its duty leases' holder, fail each other's embedded-agent
/// jobs at start and write one heartbeat. A node therefore holds a lock on its name for as long as it runs (on
/// PostgreSQL a session advisory lock, which the database releases when the process's connection ends). When a starting
/// node finds the lock held, it watches the name's row and the holding session:
/// <list type="bullet">
/// <item>a running row whose heartbeat moves on, or a new start written into the row, is a live process: refuse;</item>
/// <item>a dead row held by a session older than the row's last heartbeat, and idle for the alive window, is that dead
/// process's lingering session (a lost machine): start anyway;</item>
/// <item>a stopped row held by that process's session is a process on its way out: its lock goes with it, so look again,
/// and start anyway after one heartbeat interval if its session lingers;</item>
/// <item>anything else (no row yet, or a session newer than the row: a process starting right now) is watched for one
/// alive window (three heartbeats), then refused.</item>
/// </list>
/// </summary>
public static class NodeNameClaimRules
{
    /// <param name="first">The row when the lock was first found held (null: there was none).</param>
    /// <param name="now">The row now (null: there is none).</param>
    /// <param name="holderSince">When the session holding the lock began (null when the database does not say).</param>
    /// <param name="holderActiveAt">When that session last ran a statement (null when the database does not say): a live node
    /// checks its lock's connection at every heartbeat, so a session active within the alive window belongs to a live node,
    /// however late its heartbeat (a full pool, a long pause).</param>
    /// <param name="waited">How long the starting node has watched so far.</param>
    public static HeldNameStep WhenHeld(NameRow? first, NameRow? now, long? holderSince, long? holderActiveAt, long nowMs, TimeSpan heartbeatInterval,
        TimeSpan waited)
    {
        if (now is { StoppedAt: null } running && first is not null && (running.HeartbeatAt > first.HeartbeatAt || running.StartedAt != first.StartedAt))
            return HeldNameStep.Refuse;
        // The holder's session is the row's own process (it began before that process's last heartbeat or its stop), not
        // a process starting right now.
        var rowsOwnSession = now is not null && (holderSince is null || holderSince < now.HeartbeatAt);
        if (now is { StoppedAt: not null } && rowsOwnSession)
            return waited < heartbeatInterval ? HeldNameStep.LookAgain : HeldNameStep.StartAnyway;
        var window = 3 * (long)heartbeatInterval.TotalMilliseconds;
        if (now is not null && rowsOwnSession && !NodeNames.IsAlive(now.HeartbeatAt, now.StoppedAt, nowMs, heartbeatInterval)
            && (holderActiveAt is null || nowMs - holderActiveAt > window))
            return HeldNameStep.StartAnyway;
        return waited < 3 * heartbeatInterval ? HeldNameStep.LookAgain : HeldNameStep.Refuse;
    }
}
