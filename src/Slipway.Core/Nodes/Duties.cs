namespace Slipway.Core.Nodes;

/// <summary>
/// The duties: background work that must run on exactly one server node at a time, each under its own lease
/// (<see cref="DutyLeaseRules"/>). A duty is named after the worker that carries it; the names are stored in the
/// database (duty_leases) and shown by <c>slipway node list</c>, so never rename one.
/// </summary>
public static class Duties
{
    public const string GitPolling = "git-polling";
    public const string LeaseSweeping = "lease-sweeping";
    public const string ReleaseCreation = "release-creation";
    public const string DeploymentConducting = "deployment-conducting";
    public const string AutoMerging = "auto-merging";
    public const string LiveChecks = "live-checks";
    public const string LogArchiving = "log-archiving";

    public static readonly IReadOnlyList<string> All =
        [GitPolling, LeaseSweeping, ReleaseCreation, DeploymentConducting, AutoMerging, LiveChecks, LogArchiving];
}
