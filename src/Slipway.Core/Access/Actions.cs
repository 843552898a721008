namespace Slipway.Core.Access;

/// <summary>
/// The one catalogue of actions. Every endpoint and every UI action names exactly one of these; the
/// authorizer decides on it and the audit log records it under the same name, so nothing can be reachable
/// yet unaudited. A server test walks the route table to hold that true, and a permission-matrix test checks
/// every endpoint against every built-in role.
/// Later issues add their actions here (change requests, releases, deployments) and to
/// <see cref="BuiltInRoles"/>; a grant's scope (server, project, environment) is designed in already.
/// </summary>
public static class Actions
{
    // Projects and runs (project-scoped: can be granted per project).
    public const string ProjectCreate = "project.create";
    /// <summary>Create a project from a path on the server's disk (never inside the data folder): the path is read as the server's user.</summary>
    public const string ProjectLocalRepo = "project.local-repo";
    public const string ProjectRead = "project.read";
    public const string RunStart = "run.start";
    public const string RunRead = "run.read";
    public const string RunCancel = "run.cancel";
    public const string RunRetry = "run.retry";
    public const string LogRead = "log.read";
    public const string ArtifactRead = "artifact.read";
    public const string VariableRead = "variable.read";
    public const string VariableWrite = "variable.write";
    public const string ItemRead = "item.read";
    /// <summary>Create and edit work items, and set the project's key prefix. An item's state is derived, never written.</summary>
    public const string ItemWrite = "item.write";
    /// <summary>Clone and fetch a hosted repository over smart HTTP.</summary>
    public const string RepoRead = "repo.read";
    /// <summary>Push to a hosted repository over smart HTTP.</summary>
    public const string RepoPush = "repo.push";
    /// <summary>Mark a branch of a project protected (no direct pushes, force-pushes or deletions).</summary>
    public const string RepoProtect = "repo.protect";
    /// <summary>Set the credential Slipway uses to fetch from and push merges to an external repository.</summary>
    public const string RepoCredential = "repo.credential";
    public const string ChangeRequestRead = "cr.read";
    /// <summary>Open, edit, close and reopen change requests and set them to merge by themselves.</summary>
    public const string ChangeRequestWrite = "cr.write";
    /// <summary>Approve, request changes or comment (never approving one's own change or commits: a policy).</summary>
    public const string ChangeRequestReview = "cr.review";
    /// <summary>Merge a change request whose rules all hold.</summary>
    public const string ChangeRequestMerge = "cr.merge";
    /// <summary>Set a target branch's merge rules (required approvals, dismissal of stale approvals).</summary>
    public const string MergeRulesManage = "cr.rules";
    public const string ReleaseRead = "release.read";
    /// <summary>Create a release by hand from a given green run (green runs on the release branch create theirs automatically).</summary>
    public const string ReleaseCreate = "release.create";

    // Environments and deployments (project-scoped; deployment actions can also be granted per environment).
    public const string EnvironmentRead = "env.read";
    /// <summary>Create and change environments, their freeze windows and their variables and secrets.</summary>
    public const string EnvironmentManage = "env.manage";
    public const string DeploymentRead = "deployment.read";
    /// <summary>Deploy, promote, roll back and cancel (the environment's deployer list applies too).</summary>
    public const string DeploymentStart = "deployment.start";
    /// <summary>Approve or reject a deployment (never one's own, never a release one wrote or merged into).</summary>
    public const string DeploymentApprove = "deployment.approve";
    /// <summary>Deploy during a freeze window, with a reason (flagged on the dashboard and in the audit log).</summary>
    public const string DeployBreakGlass = "deploy.break-glass";
    /// <summary>Sign off a release on an environment (UAT, acceptance, exploratory): never a release one wrote or merged into.</summary>
    public const string ReleaseSignOff = "release.signoff";
    /// <summary>Configure an environment's quality gates (audited; a pipeline file cannot change them).</summary>
    public const string GateManage = "gate.manage";
    /// <summary>Add and remove an environment's live checks and a project's alert webhooks (audited; a pipeline file cannot change them).</summary>
    public const string CheckManage = "check.manage";

    // Server administration (global only).
    public const string AgentRead = "agent.read";
    public const string AgentApprove = "agent.approve";
    public const string AgentTokenCreate = "agent.token.create";
    public const string UserRead = "user.read";
    public const string UserManage = "user.manage";
    public const string RoleManage = "role.manage";
    public const string GrantManage = "grant.manage";
    public const string AuditRead = "audit.read";
    public const string PolicyOverride = "policy.override";
    public const string MetricsRead = "metrics.read";
    public const string PipelineLint = "pipeline.lint";
    public const string UiView = "ui.view";
    /// <summary>See the server nodes sharing the database, their heartbeats and the duties each holds.</summary>
    public const string NodeRead = "node.read";
    /// <summary>Drain a server node (no new duties or jobs, /healthz 503: before an upgrade), undrain it, remove a retired one from the list.</summary>
    public const string NodeDrain = "node.drain";

    /// <summary>One's own account: profile, password, API tokens, sessions. Every role has it.</summary>
    public const string AccountSelf = "account.self";

    // Agent protocol: only an agent's own credential (or, to register, a registration token) may take these.
    public const string AgentRegister = "agent.register";
    public const string AgentWork = "agent.work";
    /// <summary>An agent's high-frequency calls (poll, lease renewal, log lines): audited only when denied.</summary>
    public const string AgentHeartbeat = "agent.heartbeat";

    // Endpoints whose caller proves itself another way (documented where they are mapped).
    public const string Public = "public";
    /// <summary>Signing in: a password or token is checked by the endpoint, which audits the outcome itself.</summary>
    public const string SessionCreate = "session.create";
    public const string WebhookPush = "webhook.push";

    public static readonly IReadOnlyDictionary<string, ActionInfo> Catalogue = new[]
    {
        new ActionInfo(ProjectCreate, ActionKind.User, ActionScope.Server, "create projects"),
        new ActionInfo(ProjectLocalRepo, ActionKind.User, ActionScope.Server, "create a project from a path on the server's disk"),
        new ActionInfo(ProjectRead, ActionKind.User, ActionScope.Project, "see a project, its branches and settings", IsRead: true),
        new ActionInfo(RunStart, ActionKind.User, ActionScope.Project, "start a run"),
        new ActionInfo(RunRead, ActionKind.User, ActionScope.Project, "see runs and their jobs", IsRead: true),
        new ActionInfo(RunCancel, ActionKind.User, ActionScope.Project, "cancel a run"),
        new ActionInfo(RunRetry, ActionKind.User, ActionScope.Project, "retry a run's failed jobs"),
        new ActionInfo(LogRead, ActionKind.User, ActionScope.Project, "read job logs", IsRead: true),
        new ActionInfo(ArtifactRead, ActionKind.User, ActionScope.Project, "download artifacts", IsRead: true),
        new ActionInfo(VariableRead, ActionKind.User, ActionScope.Project, "list variables (never a secret's value)", IsRead: true),
        new ActionInfo(VariableWrite, ActionKind.User, ActionScope.Project, "create, change and delete variables and secrets"),
        new ActionInfo(ItemRead, ActionKind.User, ActionScope.Project, "see work items and their timelines", IsRead: true),
        new ActionInfo(ItemWrite, ActionKind.User, ActionScope.Project, "create and edit work items, set the project's key prefix"),
        new ActionInfo(RepoRead, ActionKind.User, ActionScope.Project, "clone and fetch a hosted repository", IsRead: true),
        new ActionInfo(RepoPush, ActionKind.User, ActionScope.Project, "push to a hosted repository (never to a protected branch)"),
        new ActionInfo(RepoProtect, ActionKind.User, ActionScope.Project, "mark a branch protected"),
        new ActionInfo(RepoCredential, ActionKind.User, ActionScope.Project, "set the credential for fetching from and pushing merges to an external repository"),
        new ActionInfo(ChangeRequestRead, ActionKind.User, ActionScope.Project, "see change requests, their diffs, reviews and merge rules", IsRead: true),
        new ActionInfo(ChangeRequestWrite, ActionKind.User, ActionScope.Project, "open, close and reopen change requests, set auto-merge"),
        new ActionInfo(ChangeRequestReview, ActionKind.User, ActionScope.Project, "approve, request changes or comment (never one's own change)"),
        new ActionInfo(ChangeRequestMerge, ActionKind.User, ActionScope.Project, "merge a change request whose rules all hold"),
        new ActionInfo(MergeRulesManage, ActionKind.User, ActionScope.Project, "set a target branch's merge rules"),
        new ActionInfo(ReleaseRead, ActionKind.User, ActionScope.Project, "see releases, their notes and artifacts", IsRead: true),
        new ActionInfo(ReleaseCreate, ActionKind.User, ActionScope.Project, "create a release by hand from a green run"),
        new ActionInfo(EnvironmentRead, ActionKind.User, ActionScope.Project, "see environments, their settings and freeze windows", IsRead: true),
        new ActionInfo(EnvironmentManage, ActionKind.User, ActionScope.Project, "create and change environments, freeze windows, environment variables and secrets"),
        new ActionInfo(DeploymentRead, ActionKind.User, ActionScope.Project, "see deployments, the dashboard and the evidence export", IsRead: true),
        new ActionInfo(DeploymentStart, ActionKind.User, ActionScope.Project, "deploy, promote, roll back and cancel deployments"),
        new ActionInfo(DeploymentApprove, ActionKind.User, ActionScope.Project, "approve or reject deployments (never one's own)"),
        new ActionInfo(ReleaseSignOff, ActionKind.User, ActionScope.Project, "sign off or reject a release on an environment (never one's own changes)"),
        new ActionInfo(GateManage, ActionKind.User, ActionScope.Project, "add and remove an environment's quality gates"),
        // Server-wide on purpose: a check or webhook makes the server itself send requests (or run scripts on deploy
        // agents), from its own network position; only a global grant may point it somewhere (ADR 0007).
        new ActionInfo(CheckManage, ActionKind.User, ActionScope.Server, "add and remove live checks and alert webhooks (global grants only: the server sends the requests)"),
        new ActionInfo(DeployBreakGlass, ActionKind.User, ActionScope.Project, "deploy during a freeze window, with a reason (flagged)"),
        new ActionInfo(AgentRead, ActionKind.User, ActionScope.Server, "see agents", IsRead: true),
        new ActionInfo(AgentApprove, ActionKind.User, ActionScope.Server, "approve or disable agents"),
        new ActionInfo(AgentTokenCreate, ActionKind.User, ActionScope.Server, "create, list and revoke agent registration tokens"),
        new ActionInfo(UserRead, ActionKind.User, ActionScope.Server, "see users and their grants", IsRead: true),
        new ActionInfo(UserManage, ActionKind.User, ActionScope.Server, "create and disable users, reset passwords, revoke their tokens"),
        new ActionInfo(RoleManage, ActionKind.User, ActionScope.Server, "create and delete custom roles"),
        new ActionInfo(GrantManage, ActionKind.User, ActionScope.Server, "grant and revoke roles"),
        new ActionInfo(AuditRead, ActionKind.User, ActionScope.Server, "read, verify and export the audit log", IsRead: true),
        new ActionInfo(PolicyOverride, ActionKind.User, ActionScope.Server, "override a segregation-of-duties policy, with a reason (flagged and audited)"),
        new ActionInfo(MetricsRead, ActionKind.User, ActionScope.Server, "read Prometheus metrics", IsRead: true),
        new ActionInfo(PipelineLint, ActionKind.User, ActionScope.Server, "lint a pipeline file", IsRead: true),
        new ActionInfo(UiView, ActionKind.User, ActionScope.Server, "open the web UI", IsRead: true),
        new ActionInfo(NodeRead, ActionKind.User, ActionScope.Server, "see the server nodes, their heartbeats and duties", IsRead: true),
        new ActionInfo(NodeDrain, ActionKind.User, ActionScope.Server, "drain, undrain and remove a server node"),
        new ActionInfo(AccountSelf, ActionKind.User, ActionScope.Server, "manage one's own password, API tokens and sessions"),
        new ActionInfo(AgentRegister, ActionKind.Agent, ActionScope.Server, "register an agent with a registration token"),
        new ActionInfo(AgentWork, ActionKind.Agent, ActionScope.Server, "take, start and finish leased jobs, move artifacts"),
        new ActionInfo(AgentHeartbeat, ActionKind.Agent, ActionScope.Server, "long-poll, renew leases, send log lines", AuditDenialsOnly: true),
        new ActionInfo(Public, ActionKind.Public, ActionScope.Server, "static assets, health, sign-in page", AuditDenialsOnly: true),
        new ActionInfo(SessionCreate, ActionKind.Public, ActionScope.Server, "sign in (audited by the endpoint with its outcome)", AuditDenialsOnly: true),
        new ActionInfo(WebhookPush, ActionKind.Public, ActionScope.Project, "a signed push notification from a git host"),
    }.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public static readonly IReadOnlySet<string> All = Catalogue.Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Actions a user can be granted (through roles or a token's scope).</summary>
    public static readonly IReadOnlySet<string> UserActions =
        Catalogue.Values.Where(a => a.Kind == ActionKind.User).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);

    public static ActionInfo Get(string action) =>
        Catalogue.TryGetValue(action, out var info) ? info : throw new ArgumentException($"'{action}' is not in the action catalogue");
}

public enum ActionKind { User, Agent, Public }

/// <summary>How narrowly an action can be granted. Project-scoped actions also accept an environment (issue 5).</summary>
public enum ActionScope { Server, Project }

/// <param name="AuditDenialsOnly">
/// True only for calls too frequent to be evidence (an agent's heartbeats, static assets): an allowed call
/// writes no entry, a denied one does. Everything else is audited whether allowed or denied (ADR 0004).
/// </param>
public sealed record ActionInfo(string Name, ActionKind Kind, ActionScope Scope, string Description, bool IsRead = false, bool AuditDenialsOnly = false);
