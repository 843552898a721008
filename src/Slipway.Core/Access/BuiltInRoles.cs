namespace Slipway.Core.Access;

/// <summary>
/// The roles of the talk. <c>admin</c> controls the server; <c>analyst</c> signs off and promotes to production;
/// <c>developer</c> runs, pushes, reviews, merges and releases; <c>viewer</c> reads. A new action joins the sets that
/// should hold it; the permission-matrix test checks each role against every endpoint.
/// </summary>
public static class BuiltInRoles
{
    public const string Admin = "admin";
    public const string Analyst = "analyst";
    public const string Developer = "developer";
    public const string Viewer = "viewer";

    private static readonly string[] ViewerActions =
    [
        Actions.ProjectRead, Actions.RunRead, Actions.LogRead, Actions.ArtifactRead, Actions.VariableRead, Actions.ItemRead, Actions.RepoRead,
        Actions.ReleaseRead, Actions.ChangeRequestRead, Actions.EnvironmentRead, Actions.DeploymentRead,
        Actions.AgentRead, Actions.PipelineLint, Actions.UiView, Actions.AccountSelf,
    ];

    public static readonly IReadOnlyList<Role> All =
    [
        new(Admin, "controls the server: users, roles, agents, settings; everything else too",
            Actions.UserActions, BuiltIn: true),
        new(Analyst, "creates and edits work items; signs off and promotes to production; reads everything of a project, and the audit log when granted on every project",
            Set(ViewerActions, Actions.AuditRead, Actions.ItemWrite, Actions.DeploymentStart, Actions.DeploymentApprove, Actions.ReleaseSignOff), BuiltIn: true),
        new(Developer, "starts, cancels and retries runs; pushes, reviews, merges, releases, deploys to dev and staging",
            Set(ViewerActions, Actions.RunStart, Actions.RunCancel, Actions.RunRetry, Actions.RepoPush, Actions.ReleaseCreate,
                Actions.ChangeRequestWrite, Actions.ChangeRequestReview, Actions.ChangeRequestMerge, Actions.DeploymentStart), BuiltIn: true),
        new(Viewer, "reads projects, runs, logs, artifacts, work items, change requests and releases; clones hosted repositories", Set(ViewerActions), BuiltIn: true),
    ];

    public static Role? Find(string name) => All.FirstOrDefault(r => r.Name == name);

    private static IReadOnlySet<string> Set(IEnumerable<string> actions, params string[] more) =>
        actions.Concat(more).ToHashSet(StringComparer.Ordinal);
}
