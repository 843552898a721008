using Slipway.Core.Access;

namespace Slipway.Core.Audit;

/// <summary>
/// Which audit entries are routine: allowed agent traffic (leases, starts, finishes, artifacts) and allowed reads. The
/// log keeps them (they are evidence); the audit page hides them by default so that changes, refusals and failures
/// stand out. A refused or failed call is never routine.
/// </summary>
public static class RoutineEntries
{
    /// <summary>The read actions of the catalogue: a read that was allowed is routine.</summary>
    public static readonly IReadOnlyList<string> ReadActions =
        Actions.All.Where(a => Actions.Get(a).IsRead).Order(StringComparer.Ordinal).ToList();

    public static bool IsRoutine(string actorKind, string action, string outcome) =>
        outcome == AuditOutcomes.Allowed && (actorKind == AuditActorKinds.Agent || ReadActions.Contains(action));
}
