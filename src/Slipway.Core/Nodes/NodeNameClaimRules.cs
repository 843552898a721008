namespace Slipway.Core.Nodes;

/// <summary>What a starting node does when another database session holds its name's lock.</summary>
public enum HeldNameStep
{
    /// <summary>Look again shortly: the holder may be a process that just died, whose session the database has not closed yet.</summary>
    LookAgain,
    /// <summary>Another process runs under this name (its heartbeat moves on): refuse to start.</summary>
    Refuse,
    /// <summary>The holder is gone (its heartbeat is dead), only its session lingers (a lost machine's connection): start anyway.</summary>
    StartAnyway,
}

/// <summary>
/// Two processes must never run as one node: they would share its duty leases' holder, fail each other's embedded-agent
/// jobs at start and write one heartbeat. A node therefore holds a lock on its name for as long as it runs (on
/// PostgreSQL a session advisory lock, which the database releases when the process's connection dies). When a starting
/// node finds the lock held, it watches the name's row: a heartbeat that moves on is a live process; a row that goes
/// dead (<see cref="NodeNames.IsAlive"/>) without moving is a lost machine whose session lingers.
/// </summary>
public static class NodeNameClaimRules
{
    /// <param name="firstHeartbeatAt">The row's heartbeat when the lock was first found held, or null when there was no row.</param>
    /// <param name="heartbeatAt">The row's heartbeat now, or null when there is no row.</param>
    /// <param name="waited">How long the starting node has watched so far.</param>
    public static HeldNameStep WhenHeld(long? firstHeartbeatAt, long? heartbeatAt, long? stoppedAt, long nowMs, TimeSpan heartbeatInterval, TimeSpan waited)
    {
        if (heartbeatAt is { } beat && firstHeartbeatAt is { } first && beat > first) return HeldNameStep.Refuse;
        if (heartbeatAt is { } last && !NodeNames.IsAlive(last, stoppedAt, nowMs, heartbeatInterval)) return HeldNameStep.StartAnyway;
        // Alive but not beating yet, or no row at all (a process starting under this name right now): wait out one alive
        // window, then a holder that still neither beats nor dies is another process, stuck or starting: refuse.
        return waited < 3 * heartbeatInterval ? HeldNameStep.LookAgain : HeldNameStep.Refuse;
    }
}
