namespace Slipway.Core.ChangeRequests;

/// <summary>Where a change request is: open (under review), merged (final) or closed (may be reopened).</summary>
public enum ChangeRequestState { Open, Merged, Closed }

/// <summary>Thrown when a change request is asked to move in a way its state does not allow. Answered with 409.</summary>
public sealed class ChangeRequestTransitionException(string message) : InvalidOperationException(message);

/// <summary>
/// The allowed state changes of a change request, checked before every write: open → merged, open → closed,
/// closed → open. A merged change request is final. Reviewing and setting auto-merge need an open one.
/// </summary>
public static class ChangeRequestTransitions
{
    public static string Name(this ChangeRequestState state) => state.ToString().ToLowerInvariant();

    public static ChangeRequestState? Parse(string? name) =>
        Enum.GetValues<ChangeRequestState>().Cast<ChangeRequestState?>().FirstOrDefault(s => s!.Value.Name() == name);

    public static bool Can(ChangeRequestState from, ChangeRequestState to) => (from, to) switch
    {
        (ChangeRequestState.Open, ChangeRequestState.Merged) => true,
        (ChangeRequestState.Open, ChangeRequestState.Closed) => true,
        (ChangeRequestState.Closed, ChangeRequestState.Open) => true,
        _ => false,
    };

    /// <summary>Throws unless <paramref name="from"/> → <paramref name="to"/> is allowed, saying why not.</summary>
    public static void Ensure(string subject, ChangeRequestState from, ChangeRequestState to)
    {
        if (Can(from, to)) return;
        var why = from == ChangeRequestState.Merged ? "it is already merged"
            : from == to ? $"it is already {from.Name()}"
            : $"a {from.Name()} change request cannot become {to.Name()}";
        throw new ChangeRequestTransitionException($"cannot {Verb(to)} {subject}: {why}");
    }

    /// <summary>Throws unless the change request is open (reviews, auto-merge and edits need an open one).</summary>
    public static void EnsureOpen(string subject, ChangeRequestState state, string doing)
    {
        if (state != ChangeRequestState.Open)
            throw new ChangeRequestTransitionException($"cannot {doing} {subject}: it is {state.Name()}");
    }

    private static string Verb(ChangeRequestState to) => to switch
    {
        ChangeRequestState.Merged => "merge",
        ChangeRequestState.Closed => "close",
        _ => "reopen",
    };
}
