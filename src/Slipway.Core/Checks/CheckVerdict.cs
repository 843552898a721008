namespace Slipway.Core.Checks;

/// <summary>What the runner does after a check's result.</summary>
public enum CheckAction
{
    /// <summary>Nothing to tell anyone (still healthy, or still failing and already told).</summary>
    None,
    /// <summary>Send an alert only.</summary>
    Alert,
    /// <summary>Ask for an automatic rollback of the watched deployment, and alert.</summary>
    RollBack,
    /// <summary>Inside the watch window but the release does not roll back by itself: alert that a person must decide.</summary>
    AskPerson,
}

/// <summary>
/// The environment's latest succeeded deployment, as a failing check sees it. <paramref name="AutoRollback"/>: the
/// release's pipeline snapshot says <c>deploy: rollback: auto</c>. <paramref name="IsRollback"/>: it is itself a rollback
/// (undoing a rollback is never automatic). <paramref name="HasPrevious"/>: there is an earlier release to return to.
/// <paramref name="Handled"/>: a failing check already acted on this deployment's window (once per deployment).
/// </summary>
public sealed record WatchedDeployment(long Id, DateTimeOffset FinishedAt, bool AutoRollback, bool IsRollback, bool HasPrevious, bool Handled);

/// <summary>The runner's decision: what to do, the alert's event name, and the deployment whose window the result fell in.</summary>
public sealed record CheckVerdict(CheckAction Action, string? Event, long? InWindowOf)
{
    public const string Failed = "check.failed";
    public const string Recovered = "check.recovered";
    public const string RolledBack = "check.rollback";
    public const string NeedsDecision = "check.needs-decision";

    /// <summary>
    /// Judges one result. <paramref name="previousOk"/>: the check's last result before this one (null: none yet); an
    /// alert goes out when the state changes (failing after healthy, healthy after failing), so a check failing for hours
    /// does not flood the channel. A failure inside the watch window of the latest deployment (finished less than
    /// <paramref name="watch"/> ago; zero means no window) acts once per deployment: rollback when the release says
    /// <c>rollback: auto</c> and there is an earlier release, else an alert that a person must decide.
    /// </summary>
    public static CheckVerdict Judge(bool ok, bool? previousOk, WatchedDeployment? latest, TimeSpan watch, DateTimeOffset at)
    {
        var inWindow = latest is not null && watch > TimeSpan.Zero && at >= latest.FinishedAt && at < latest.FinishedAt + watch ? latest : null;
        if (ok) return new(previousOk == false ? CheckAction.Alert : CheckAction.None, previousOk == false ? Recovered : null, inWindow?.Id);
        if (inWindow is { Handled: false } d)
            return d.AutoRollback && !d.IsRollback && d.HasPrevious
                ? new(CheckAction.RollBack, RolledBack, d.Id)
                : new(CheckAction.AskPerson, NeedsDecision, d.Id);
        var changed = previousOk != false;
        return new(changed ? CheckAction.Alert : CheckAction.None, changed ? Failed : null, inWindow?.Id);
    }
}
