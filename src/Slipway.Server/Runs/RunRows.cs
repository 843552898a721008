namespace Slipway.Server.Runs;

// Row shapes as read by Dapper (snake_case columns -> PascalCase). Every integer is long so the same
// class reads SQLite INTEGER and PostgreSQL BIGINT.

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
    /// <summary>Set for a run that executes a script live check (docs/live-checks.md).</summary>
    public long? CheckId { get; set; }
    /// <summary>
    /// Whether a build run's branch was protected when the run was made (1/0; null, from an older node during a rolling
    /// upgrade, counts as 0). Its jobs get protected values only when it was and still is (<see cref="JobDispatcher"/>).
    /// </summary>
    public long? BranchProtected { get; set; }
    /// <summary>When the run was last retried (unix ms), or null; <see cref="StartedAt"/> stays the first start.</summary>
    public long? RetriedAt { get; set; }
    public string Kind => DeploymentId is not null ? RunKinds.Deployment : CheckId is not null ? RunKinds.Check : RunKinds.Ci;
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
    /// <summary>The marks of the later attempts' first log lines, space-separated (<see cref="JobDispatcher.AttemptMarker"/>), or null.</summary>
    public string? AttemptMarks { get; set; }
    public long? AgentId { get; set; }
    public string? AgentName { get; set; }
    public string? LeaseId { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public long CancelRequested { get; set; }
    public long? ExitCode { get; set; }
    public string? FailureReason { get; set; }
    /// <summary>Why the last attempt failed, typed (<see cref="Core.Runs.JobFailureKind"/>, wire form); null unless it failed or was cancelled.</summary>
    public string? FailureKind { get; set; }
    public Core.Runs.JobFailureKind? Failure => Core.Runs.JobFailureKinds.Parse(FailureKind);
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
