namespace Slipway.Server.Storage;

// Row shapes as read by Dapper (snake_case columns -> PascalCase). Every integer is long so the same
// class reads SQLite INTEGER and PostgreSQL BIGINT. Mapping to API shapes happens in the Api layer.

public sealed class ProjectRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string RepoUrl { get; set; } = "";
    public string DefaultBranch { get; set; } = "";
    public string WebhookSecret { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? LastFetchAt { get; set; }
    public string? LastFetchError { get; set; }
    /// <summary>The work item key prefix (SHOP for SHOP-42), or null before one is set.</summary>
    public string? ItemKeyPrefix { get; set; }
    /// <summary>
    /// The username of the credential for an external repository; null when it needs none, or when the credential is a
    /// token given as the user name of its address (then <see cref="GitPasswordProtected"/> holds the token).
    /// </summary>
    public string? GitUsername { get; set; }
    /// <summary>That credential's password (or token), encrypted (<see cref="Git.GitCredentials"/>).</summary>
    public string? GitPasswordProtected { get; set; }
    /// <summary>The project's own pattern for keys in branch names and commit messages, or null for the default.</summary>
    public string? ItemKeyPattern { get; set; }
}

public sealed class BranchRow
{
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string Head { get; set; } = "";
    public long UpdatedAt { get; set; }
}

public sealed class RunRow
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string ProjectName { get; set; } = "";
    /// <summary>The project's CI run number (#1, #2, ...); null for a deployment's run, which is known by its deployment.</summary>
    public long? Number { get; set; }
    public string Branch { get; set; } = "";
    public string CommitSha { get; set; } = "";
    public string? CommitMessage { get; set; }
    public string Trigger { get; set; } = "";
    public string Status { get; set; } = "";
    public string? FailureReason { get; set; }
    public string? LintErrors { get; set; }
    /// <summary>JSON list of problems that did not fail the run (a key naming no work item, an ignored release setting), or null.</summary>
    public string? Warnings { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    /// <summary>Set for a run that executes a deployment (not a build), with the deployment's environment.</summary>
    public long? DeploymentId { get; set; }
    public long? EnvironmentId { get; set; }
    public long? DeploymentNumber { get; set; }
    public string Kind => DeploymentId is null ? RunKinds.Ci : RunKinds.Deployment;
}

public sealed class StageRow
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public long Idx { get; set; }
    public string Name { get; set; } = "";
    public string Status { get; set; } = "";
    public long SkippedByFilter { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
}

public sealed class JobRow
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public long StageIdx { get; set; }
    public string Name { get; set; } = "";
    public string Status { get; set; } = "";
    public string Pool { get; set; } = "";
    public string Labels { get; set; } = "";
    public string Spec { get; set; } = "";
    public long RetriesLeft { get; set; }
    public long Attempt { get; set; }
    public long? AgentId { get; set; }
    public string? AgentName { get; set; }
    public string? LeaseId { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public long CancelRequested { get; set; }
    public long? ExitCode { get; set; }
    public string? FailureReason { get; set; }
    public string? TestSummary { get; set; }
    public long LogBytes { get; set; }
    public long LogTruncated { get; set; }
    public long CreatedAt { get; set; }
    public long? QueuedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
}

public sealed class ArtifactRow
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public long JobId { get; set; }
    public string JobName { get; set; } = "";
    public long StageIdx { get; set; }
    public string Path { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long Size { get; set; }
    public long Executable { get; set; }
}

public sealed class AgentRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Pool { get; set; } = "";
    public string Labels { get; set; } = "";
    public long Slots { get; set; }
    public string Status { get; set; } = "";
    public long ProtocolVersion { get; set; }
    public long CreatedAt { get; set; }
    public long? LastSeenAt { get; set; }
    public long RunningJobs { get; set; }
}

public sealed class RegistrationTokenRow
{
    public long Id { get; set; }
    public string Pool { get; set; } = "";
    public long PreApproved { get; set; }
    public long? RevokedAt { get; set; }
    /// <summary>The one agent name this token registers (and may take over), or null for an ordinary token.</summary>
    public string? AgentName { get; set; }
}
