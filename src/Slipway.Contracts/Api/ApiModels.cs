namespace Slipway.Contracts.Api;

// Public REST API shapes (/api/v1), shared by the server, the typed client, the CLI and tests.

/// <param name="Hosted">True: Slipway hosts the repository (served at /git/NAME.git); Repo and Branch are then not given.</param>
/// <param name="GitUsername">With <paramref name="GitPassword"/>: the credential for an external repository that needs one
/// (stored encrypted; used to fetch and to push merges; the password is never returned).</param>
public sealed record CreateProjectRequest(string Name, string? Repo, string? Branch, bool Hosted = false, string? GitUsername = null, string? GitPassword = null);
/// <param name="ItemKeyPattern">The project's own pattern for work item keys; null: the default (word-bounded PREFIX-NUMBER).</param>
public sealed record ProjectDto(string Name, string Repo, string DefaultBranch, DateTimeOffset CreatedAt, string? LastFetchError,
    string? ItemKeyPrefix = null, string? ItemKeyPattern = null);
/// <param name="WebhookSecret">The push webhook's HMAC secret, shown only here; null for a hosted project, whose pushes start runs
/// without a webhook.</param>
public sealed record ProjectCreatedDto(string Name, string Repo, string DefaultBranch, string? WebhookSecret);
public sealed record BranchDto(string Name, string Head, RunSummaryDto? LatestRun);

public sealed record StartRunRequest(string? Branch, string? Commit);
public sealed record RunCreatedDto(long Id);

/// <param name="Number">The project's CI run number (#1, #2, ...); null for a deployment's run.</param>
/// <param name="Kind"><c>ci</c> (a branch's build) or <c>deployment</c> (executes deployment <paramref name="Deployment"/>).</param>
public sealed record RunSummaryDto(long Id, string Project, int? Number, string Branch, string Commit, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string Kind = "ci", long? Deployment = null, string? Trigger = null);

/// <param name="Number">The project's CI run number (#1, #2, ...); null for a deployment's run.</param>
/// <param name="Kind"><c>ci</c> (a branch's build) or <c>deployment</c> (executes deployment <paramref name="Deployment"/>).</param>
/// <param name="Waiting">While jobs are queued for a pool without a connected agent: "waiting for an agent of pool deploy (none connected)".</param>
public sealed record RunDto(
    long Id, string Project, int? Number, string Branch, string Commit, string? CommitMessage, string Trigger,
    string Status, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    string? FailureReason, IReadOnlyList<string> LintErrors, IReadOnlyList<StageDto> Stages, IReadOnlyList<ArtifactDto> Artifacts,
    IReadOnlyList<string>? Warnings = null, string Kind = "ci", long? Deployment = null, string? Waiting = null, DateTimeOffset? RetriedAt = null);

public sealed record StageDto(string Name, string Status, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, IReadOnlyList<JobDto> Jobs);

public sealed record JobDto(
    long Id, string Name, string Status, string Pool, int Attempt, string? Agent, int? ExitCode, string? FailureReason,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    TestSummaryViewDto? TestSummary, long LogBytes, bool LogTruncated,
    // Why the last attempt failed, typed: step, agent_lost, setup or cancelled (null otherwise); scripts read this, not the reason's wording.
    string? FailureKind = null,
    // The marks of the lines that begin attempts 2, 3, ... in the log ("[slipway] attempt N of job ... (mark M)").
    IReadOnlyList<string>? AttemptMarks = null);

public sealed record TestSummaryViewDto(int Passed, int Failed, int Skipped, IReadOnlyList<TestFailureViewDto> Failures);
public sealed record TestFailureViewDto(string Name, string Message);

public sealed record ArtifactDto(string Job, string Path, string Sha256, long Size);

public sealed record RetryRunRequest(string? Job);

public sealed record LogPageDto(long Offset, long NextOffset, string Text, bool Complete, bool Truncated);

public sealed record AgentDto(long Id, string Name, string Pool, IReadOnlyList<string> Labels, int Slots, string Status,
    DateTimeOffset? LastSeenAt, int RunningJobs);

/// <param name="AgentName">Binds the token to one agent name: it registers only that agent (a node agent's pre-approved token).</param>
/// <param name="ExpiresInDays">How long it admits agents: 1 to 365 days, 0 for never (null: 7 days).</param>
public sealed record CreateRegistrationTokenRequest(string Pool, bool PreApproved, string? AgentName = null, int? ExpiresInDays = null);
/// <param name="ExpiresAt">When it stops admitting agents; null: never.</param>
public sealed record RegistrationTokenDto(long Id, string Token, string Pool, bool PreApproved, DateTimeOffset? ExpiresAt = null);
/// <summary>
/// A registration token as listed: never its value. It admits agents while <paramref name="RevokedAt"/> is null and
/// <paramref name="ExpiresAt"/> (null: never) has not passed. <paramref name="Expired"/>: it had passed by the server's
/// clock when listed (and the token was not revoked), so a client's own clock does not decide.
/// </summary>
public sealed record RegistrationTokenInfoDto(long Id, string Pool, bool PreApproved, string? AgentName, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt = null, bool Expired = false);

public sealed record ErrorDto(string Error, IReadOnlyList<string>? Details = null);

/// <summary>
/// A project variable as listed. <c>Value</c> is null for a secret: the API never returns one. <c>Protected</c>: given only
/// to runs of protected branches and to deployments.
/// </summary>
public sealed record VariableDto(string Name, bool Secret, string? Value, DateTimeOffset UpdatedAt, string UpdatedBy, bool Protected = false);
/// <summary>
/// PUT /api/v1/projects/{name}/variables/{var}: creates or replaces the variable. <c>Protected</c> null: a new secret is
/// protected, a new plain variable is not, and a changed variable keeps its flag (one becoming a secret becomes protected).
/// </summary>
public sealed record SetVariableRequest(string? Value, bool Secret, bool? Protected = null);

// --- Work items (issue 4, parts 1-2). State is derived from links, never set; see docs/workflow.md.
/// <summary>
/// PUT /api/v1/projects/{name}/item-key: the project's key prefix (SHOP for SHOP-42) and/or the pattern that finds keys
/// in branch names and commit messages (a regular expression with (?&lt;key&gt;…) or (?&lt;number&gt;…) [and
/// (?&lt;prefix&gt;…)]; "" for the default). Null: unchanged; at least one is given.
/// </summary>
public sealed record SetItemKeyRequest(string? Prefix, string? Pattern = null);
/// <param name="Pattern">The pattern in use (the default's text when <paramref name="DefaultPattern"/>).</param>
public sealed record ItemKeyDto(string Project, string? Prefix, string Pattern, bool DefaultPattern);
/// <summary>POST /api/v1/projects/{name}/items. Kind: feature (default), bug, chore.</summary>
public sealed record CreateWorkItemRequest(string? Title, string? Description, string? Kind);
/// <summary>PATCH /api/v1/projects/{name}/items/{number}: fields left null stay as they are.</summary>
public sealed record UpdateWorkItemRequest(string? Title, string? Description, string? Kind);
/// <summary>A work item; <see cref="Timeline"/> is null in lists and filled on the item itself.</summary>
public sealed record WorkItemDto(string Key, string Project, long Number, string Title, string Description, string Kind, string State,
    string Requester, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string UpdatedBy, IReadOnlyList<WorkItemEventDto>? Timeline = null,
    IReadOnlyList<ItemEnvironmentDto>? Environments = null, string? Stage = null, string? StageEnvironment = null, string? StageLabel = null,
    IReadOnlyList<ItemChangeRequestDto>? ChangeRequests = null, IReadOnlyList<ItemReleaseDto>? Releases = null,
    IReadOnlyList<ItemDeploymentDto>? Deployments = null);

/// <summary>
/// Where a released item is on one environment (lifecycle order): <c>deployed</c> (the current release contains it),
/// <c>pending</c> (a deployment of it awaits approval, is queued or runs), <c>rolled_back</c> (it was there, an older release is
/// current again) or <c>failed</c>. Release, At and By are those of <paramref name="Deployment"/>, the deployment that decided it.
/// </summary>
public sealed record ItemEnvironmentDto(string Environment, string Release, string Status, DateTimeOffset At, string By, long? Deployment = null);

/// <summary>A change request naming the item, with every review (the reviewers and their verdicts).</summary>
public sealed record ItemChangeRequestDto(long Number, string Title, string State, string Source, string Target, string Author,
    string? MergedBy, DateTimeOffset? MergedAt, IReadOnlyList<ReviewDto> Reviews);

/// <summary>A release containing the item: the first that names it, and later ones that were deployed.</summary>
public sealed record ItemReleaseDto(string Version, DateTimeOffset CreatedAt, string? CreatedBy, bool First);

/// <summary>A deployment that brought the item to an environment (or is on its way), or one that took it away (ContainsItem false).</summary>
public sealed record ItemDeploymentDto(long Number, string Environment, string Release, string Kind, string State, string Initiator,
    DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, bool ContainsItem, IReadOnlyList<DeploymentApprovalDto> Approvals);

/// <summary>
/// One step of an item's timeline, oldest first. Kind: created, branch (Ref = branch name), commit (Ref = sha),
/// run (Ref = run id; RunNumber and RunStatus set), change_request, change_request_merged, release, deployed and
/// rolled_back (these two carry the number of the deployment in Deployment), signoff_accepted and signoff_rejected (a person's
/// verdict on a release carrying the item; Ref says which kind, release and environment, with the notes). Who: the requester, the commit's author,
/// the user who started the run (null when a push did), and so on.
/// </summary>
/// <param name="Detail">What a review or an approval said: its verdict and comment (review, deployment_approved, deployment_rejected);
/// for later_releases_folded (the later releases past the first 10, in one event; Ref "1.0.19 to 1.0.55") their count.</param>
public sealed record WorkItemEventDto(string Kind, string Ref, long? RunId, int? RunNumber, string? RunStatus, string? Who, DateTimeOffset At,
    long? Deployment = null, string? Detail = null);

// --- Access (issue 3): users, grants, roles, tokens, sign-in, audit.
public sealed record GrantDto(string Role, string? Project, string? Environment, string GrantedBy, DateTimeOffset CreatedAt);
public sealed record UserDto(string Username, string? DisplayName, string? Email, bool Disabled, bool HasPassword, DateTimeOffset CreatedAt, IReadOnlyList<GrantDto> Grants);
public sealed record CreateUserRequest(string Username, string? DisplayName, string? Email, string? Password);
public sealed record SetPasswordRequest(string Password, string? CurrentPassword);
/// <param name="OverrideReason">Only to override the no-self-grant rule (needs policy.override); flagged in the audit log.</param>
public sealed record GrantRequest(string Role, string? Project, string? Environment, string? OverrideReason = null);
public sealed record RoleDto(string Name, string Description, IReadOnlyList<string> Actions, bool BuiltIn);
public sealed record CreateRoleRequest(string Name, string? Description, IReadOnlyList<string> Actions);
public sealed record ActionDto(string Name, string Scope, string Description);
public sealed record MeDto(string Username, string? DisplayName, string? Email, IReadOnlyList<GrantDto> Grants, IReadOnlyList<string> Actions, string? Token);
public sealed record CreateTokenRequest(string Name, int? ExpiresInDays, IReadOnlyList<string>? Scope);
public sealed record TokenDto(long Id, string Name, IReadOnlyList<string>? Scope, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, bool Active);
public sealed record TokenCreatedDto(long Id, string Name, string Token, DateTimeOffset? ExpiresAt, IReadOnlyList<string>? Scope);
public sealed record LoginRequest(string Username, string Password, string? TokenName, int? ExpiresInDays);
public sealed record AuditEntryDto(long Seq, DateTimeOffset At, string ActorKind, string Actor, string? Source, string Action, string? Target,
    string Outcome, string? Detail, string? RequestId, string PreviousHash, string Hash);
/// <param name="HeadSequence">The last entry verified: the newest when the verification began (later ones, such as its own entry, are not walked).</param>
/// <param name="ExpectedHeadSequence">With expectHead: the entry whose hash it is; null when none (then Ok is false) or not asked.</param>
/// <param name="EntriesAfterExpectedHead">With expectHead: how many entries follow that entry up to <paramref name="HeadSequence"/>.</param>
public sealed record AuditVerificationDto(bool Ok, long EntriesChecked, long? FirstBadSequence, string? Problem, string HeadHash,
    long HeadSequence = 0, long? ExpectedHeadSequence = null, long? EntriesAfterExpectedHead = null);

/// <summary>A release in a list. <see cref="CreatedBy"/> null: created automatically by a green run on the release branch.</summary>
public sealed record ReleaseSummaryDto(string Project, string Version, long RunId, int RunNumber, string Commit, string Branch,
    DateTimeOffset CreatedAt, string? CreatedBy, int Items, int Artifacts);

/// <summary>One release: what it was made from, its artifacts (with digests), work items and notes (markdown).</summary>
public sealed record ReleaseDto(string Project, string Version, long RunId, int RunNumber, string Commit, string Branch,
    DateTimeOffset CreatedAt, string? CreatedBy, TestSummaryViewDto? TestSummary, IReadOnlyList<ReleaseArtifactDto> Artifacts,
    IReadOnlyList<ReleaseItemDto> Items, string Notes, string PipelineSnapshot);

/// <summary>An artifact of a release: <see cref="Path"/> is the job name, '/', and the path the job uploaded it under.</summary>
public sealed record ReleaseArtifactDto(string Path, string Sha256, long Size);

public sealed record ReleaseItemDto(string Key, string Title, string Kind);

public sealed record CreateReleaseRequest(long? RunId);

// --- Change requests (issue 4 part 4) ---

/// <param name="Source">Branch with the change.</param>
/// <param name="Target">Branch to merge into; the project's default (release) branch when omitted.</param>
/// <param name="AutoMerge">Merge by itself, with this strategy, as soon as every rule holds (null: not automatically).</param>
public sealed record OpenChangeRequestRequest(string? Title, string? Description, string? Source, string? Target, string? AutoMerge = null);

public sealed record ChangeRequestSummaryDto(string Project, long Number, string Title, string Source, string Target, string Author, string State,
    string HeadSha, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? MergedBy, DateTimeOffset? MergedAt, string? AutoMerge);

/// <param name="PushedBy">Who pushed the commit into a hosted repository (the author line is whatever the pusher wrote); empty otherwise.</param>
public sealed record ChangeRequestCommitDto(string Sha, string AuthorName, string AuthorEmail, string? AuthorUser, DateTimeOffset AuthoredAt, string Subject,
    IReadOnlyList<string>? PushedBy = null);

public sealed record ChangedFileDto(string Path, int? Added, int? Deleted);

/// <param name="Dismissed">An approval that no longer counts because commits were pushed after it (the target's rules dismiss stale approvals).</param>
public sealed record ReviewDto(string Reviewer, string Verdict, string Comment, string HeadSha, DateTimeOffset At, bool Dismissed);

public sealed record UnmetRuleDto(string Rule, string Message);

public sealed record MergeRulesDto(string Branch, int RequiredApprovals, bool DismissStaleApprovals, string? UpdatedBy, DateTimeOffset? UpdatedAt);

public sealed record SetMergeRulesRequest(int? RequiredApprovals, bool? DismissStaleApprovals);

/// <param name="UnmetRules">Every rule that blocks a merge with <paramref name="Strategy"/> now; empty when it may merge.</param>
/// <param name="ConflictingFiles">Files a merge would conflict in (empty when it merges cleanly).</param>
public sealed record ChangeRequestDto(string Project, long Number, string Title, string Description, string Source, string Target, string Author,
    string State, string? SourceHead, string? TargetHead, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string? MergedBy, DateTimeOffset? MergedAt, string? MergeCommit, string? MergeStrategy, string? ClosedBy, DateTimeOffset? ClosedAt,
    string? AutoMerge, string? AutoMergeBy, string? AutoMergeError, IReadOnlyList<string> Warnings,
    IReadOnlyList<ChangeRequestCommitDto> Commits, IReadOnlyList<ChangedFileDto> Files, IReadOnlyList<string> ConflictingFiles,
    IReadOnlyList<RunSummaryDto> HeadRuns, IReadOnlyList<ReviewDto> Reviews, IReadOnlyList<ReleaseItemDto> Items,
    MergeRulesDto Rules, string Strategy, IReadOnlyList<UnmetRuleDto> UnmetRules);

/// <param name="Verdict">approve, request-changes or comment.</param>
/// <param name="OverrideReason">For a user holding policy.override: approve despite a segregation-of-duties refusal (flagged and audited).</param>
public sealed record ReviewRequest(string? Verdict, string? Comment, string? OverrideReason = null);

/// <param name="Strategy">merge (default), squash or fast-forward.</param>
public sealed record MergeRequest(string? Strategy);

/// <param name="Strategy">The strategy to merge with; null turns auto-merge off.</param>
public sealed record AutoMergeRequest(bool Enabled, string? Strategy = null);

public sealed record GitCredentialRequest(string? Username, string? Password);

/// <summary>POST /api/v1/projects/{name}/webhook-secret: the push webhook's new HMAC secret, shown only in this answer.</summary>
public sealed record WebhookSecretDto(string Project, string WebhookSecret);

public sealed record DirectPushDto(string Branch, string? OldHead, string NewHead, DateTimeOffset DetectedAt);

/// <summary>
/// GET/PUT /api/v1/projects/{name}/release-branches: the branches whose green runs release (server-side; the pipeline
/// file's release.branch is ignored) and the protected release tag patterns (git globs). <c>Default</c>: nothing was set,
/// so the default branch releases and v* is protected. <c>ProtectedBranches</c>: the branches that may release.
/// </summary>
public sealed record ReleaseBranchesDto(string Project, IReadOnlyList<string> Branches, IReadOnlyList<string> ProtectedTags,
    IReadOnlyList<string> ProtectedBranches, bool Default, string? UpdatedBy, DateTimeOffset? UpdatedAt);

/// <summary>
/// Either list may be left out (null: unchanged). Every branch must be protected; at least one branch.
/// <c>ExpectedUpdatedAt</c>, when given: the <c>updatedAt</c> the caller read (the Unix epoch when it read the default);
/// the change is refused (409) when someone changed the setting since, instead of overwriting what the caller never saw.
/// </summary>
public sealed record SetReleaseBranchesRequest(IReadOnlyList<string>? Branches, IReadOnlyList<string>? ProtectedTags = null,
    DateTimeOffset? ExpectedUpdatedAt = null);

// --- Environments and deployments (issue 5) ---

/// <param name="Deployers">role:NAME / user:NAME entries allowed to deploy here (empty: anyone with deployment.start).</param>
public sealed record EnvironmentRequest(string? Name, int? Position, bool? Optional, string? Pool, IReadOnlyList<string>? Deployers,
    int? RequiredApprovals, string? ApproverRole, bool? AutoDeploy, string? QueuePolicy);

public sealed record FreezeWindowDto(long Id, string Name, string? Cron, long? DurationSeconds, string? TimeZone, DateTimeOffset? From, DateTimeOffset? To,
    bool ActiveNow, DateTimeOffset? ActiveUntil, string CreatedBy);

/// <param name="Duration">For a recurring window: how long each freeze lasts, e.g. 64h.</param>
public sealed record FreezeWindowRequest(string? Name, string? Cron, string? Duration, string? TimeZone, DateTimeOffset? From, DateTimeOffset? To);

public sealed record EnvironmentVariableDto(string Name, string? Value, bool Secret, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <param name="Warnings">On create or a pool change: problems that do not stop it (no agent of its pool is connected; the pool also deploys another project's environments).</param>
public sealed record EnvironmentDto(string Project, string Name, int Position, bool Optional, string Pool, IReadOnlyList<string> Deployers,
    int RequiredApprovals, string? ApproverRole, bool AutoDeploy, string QueuePolicy, IReadOnlyList<FreezeWindowDto> Freezes,
    IReadOnlyList<EnvironmentVariableDto> Variables, DateTimeOffset UpdatedAt, string UpdatedBy, IReadOnlyList<string>? Warnings = null);

/// <param name="EmergencyReason">During a freeze, a holder of deploy.break-glass deploys anyway with this reason (flagged).</param>
public sealed record DeployRequest(string? Version, string? Environment, string? EmergencyReason = null);

public sealed record RollbackRequest(string? Environment, string? Version = null, string? EmergencyReason = null);

public sealed record DeploymentApprovalDto(string Approver, string Verdict, string Comment, DateTimeOffset At);

/// <summary>One step of a deployment's run (deploy, verify) with its outcome and where its whole log is.</summary>
public sealed record DeploymentStepDto(string Name, string Status, string? FailureReason, string Log);

/// <param name="PreviousRelease">The release it replaces: the one current on the environment when it started, or, for an
/// automatic rollback, the failed release it undoes.</param>
/// <param name="RollbackOf">For an automatic rollback: the number of the failed deployment it answers.</param>
/// <param name="Steps">The deploy and verify jobs of its run (the verify result), empty before it started.</param>
/// <param name="Waiting">While it runs but no job of its run has an agent: why ("waiting for an agent of pool deploy (none connected)").</param>
/// <param name="GateHold">The inconclusive quality gates holding it for an approver's reasoned decision (docs/gates.md), or null.</param>
/// <param name="Gates">The gate results judged when it was requested (rule, measured value, outcome): the evidence that allowed or held it.</param>
/// <param name="SignOffs">The release's sign-offs given before it was requested.</param>
/// <param name="WatchWindow">The live-check results that fell in its watch window after it succeeded (docs/live-checks.md).</param>
public sealed record DeploymentDto(string Project, long Number, string Environment, string Release, string Commit, string? PreviousRelease,
    string Kind, string State, string Initiator, string? EmergencyReason, long? RollbackOf, DateTimeOffset RequestedAt, DateTimeOffset? QueuedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Outcome, long? RunId, IReadOnlyList<DeploymentApprovalDto> Approvals,
    IReadOnlyList<ReleaseArtifactDto> Artifacts, IReadOnlyList<DeploymentStepDto>? Steps = null, string? Waiting = null,
    IReadOnlyList<DeploymentTargetDto>? Targets = null, string? GateHold = null, IReadOnlyList<GateResultDto>? Gates = null,
    IReadOnlyList<SignOffDto>? SignOffs = null, IReadOnlyList<CheckResultDto>? WatchWindow = null);

/// <remarks>No override: nobody, whatever they hold, approves a deployment they asked for or that ships a change they wrote or merged.</remarks>
public sealed record ApproveDeploymentRequest(string? Comment);

public sealed record RejectDeploymentRequest(string? Reason);

/// <summary>POST .../deployments/{n}/repair: the run that puts <c>Targets</c> back in rotation (deployment repair N).</summary>
public sealed record RepairDto(string Project, long Deployment, string Environment, long RunId, IReadOnlyList<string> Targets);

/// <param name="Current">The release last deployed successfully there (null: none yet), with when and by whom.</param>
/// <param name="Latest">The newest deployment there in any state (queued, awaiting approval, running, failed...).</param>
/// <param name="RollbackTo">The release a rollback there returns to: the one that succeeded there before the current one (null: none).</param>
public sealed record DashboardCellDto(string Environment, DeploymentDto? Current, DeploymentDto? Latest, int Queued, int AwaitingApproval,
    string? FrozenBy, DateTimeOffset? FrozenUntil, string? RollbackTo = null);

public sealed record DashboardDto(string Project, IReadOnlyList<DashboardCellDto> Environments);

/// <summary>What a promotion from one environment to another would ship.</summary>
public sealed record EnvironmentComparisonDto(string From, string To, string? FromRelease, string? ToRelease, IReadOnlyList<string> Releases,
    IReadOnlyList<ReleaseItemDto> Items);

// --- The last mile (issue 13): deployment targets, load balancers, per-target results -------------------------------

/// <summary>POST/PATCH /projects/{p}/environments/{e}/targets[/{t}]. Null fields keep their value on PATCH; an empty
/// <c>BalancerServer</c>, <c>HostKey</c> or <c>NodeAgent</c> clears it. <c>NodeAgent</c>: the name of the agent running on the
/// target that carries out its steps (a node agent, started with --target PROJECT/ENV/NAME) instead of SSH.</summary>
public sealed record TargetRequest(string? Name, string? Host, int? SshPort, string? SshUser, IReadOnlyList<string>? Roles,
    string? BalancerServer, string? HostKey, bool? Disabled, string? NodeAgent = null);

public sealed record TargetDto(string Project, string Environment, string Name, string Host, int SshPort, string SshUser,
    IReadOnlyList<string> Roles, string? BalancerServer, string? HostKey, bool Disabled, string? CurrentRelease, string? LastState,
    string? LastReason, long? LastDeployment, DateTimeOffset UpdatedAt, string UpdatedBy, string? NodeAgent = null);

/// <summary>POST .../targets/{t}/scan: without <c>Accept</c> only shows the target's host key; with it, pins the key when
/// the fingerprint offered now is exactly <c>Accept</c>.</summary>
public sealed record HostKeyScanRequest(string? Accept);
public sealed record HostKeyScanDto(string Target, string Fingerprint, string KeyType, string? Pinned, bool Stored);

/// <summary>PUT /projects/{p}/environments/{e}/balancers/{b}: kind <c>haproxy</c> with its runtime API address (unix socket path
/// or host:port, as the deploy agent reaches it), or kind <c>script</c> with its three commands (run by the deploy agent with
/// <c>/bin/sh -c</c>, the target in SLIPWAY_LB_* variables); the fewest servers of a backend kept in rotation, how long a drain
/// may take.</summary>
public sealed record BalancerRequest(string? Kind, string? Address, int? MinHealthy, string? DrainTimeout,
    string? DrainCommand = null, string? EnableCommand = null, string? StatusCommand = null);

/// <summary>A load balancer; <c>Address</c> is empty for kind <c>script</c>, whose commands are the three last fields.</summary>
public sealed record BalancerDto(string Name, string Kind, string Address, int MinHealthy, int DrainTimeoutSeconds, DateTimeOffset UpdatedAt, string UpdatedBy,
    string? DrainCommand = null, string? EnableCommand = null, string? StatusCommand = null);

/// <summary>What one deployment did to one target.</summary>
/// <param name="PendingDecision">on_failure: pause — a deployer's decision (retry, skip, abort) the deploy agent has not taken up yet, and by whom.</param>
public sealed record DeploymentTargetDto(string Target, int Batch, string State, string? BalancerState, string? Step, string? Reason,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? PendingDecision = null);

/// <summary>POST .../deployments/{n}/targets/{t}/decision: retry, skip or abort for a paused target (on_failure: pause).</summary>
public sealed record TargetDecisionRequest(string? Decision);
