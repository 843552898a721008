namespace Slipway.Core.Runs;

/// <summary>
/// Why a job's attempt failed, as a typed value stored beside the human-readable failure reason (jobs.failure_kind):
/// code that must tell the cases apart (a deployment whose deploy agent was lost ends <c>unknown</c>, not
/// <c>failed</c>) reads this, never the reason's wording.
/// </summary>
public enum JobFailureKind
{
    /// <summary>The job's own steps failed, as the agent reported (exit code, time-out, a step the agent could not start).</summary>
    Step,
    /// <summary>The agent went away mid-job: its lease ran out without renewal, or the server restarted under its embedded agent.</summary>
    AgentLost,
    /// <summary>The server could not hand the job out (e.g. a listed secret is missing or cannot be decrypted); retrying cannot help.</summary>
    Setup,
    /// <summary>A person (or a cancelled run) stopped it.</summary>
    Cancelled,
}

public static class JobFailureKinds
{
    public static string ToWire(this JobFailureKind kind) => kind switch
    {
        JobFailureKind.Step => "step",
        JobFailureKind.AgentLost => "agent_lost",
        JobFailureKind.Setup => "setup",
        JobFailureKind.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The kind stored for a job, or null for none (succeeded, never ran, or ended before kinds were recorded).</summary>
    public static JobFailureKind? Parse(string? value) => value switch
    {
        null => null,
        "step" => JobFailureKind.Step,
        "agent_lost" => JobFailureKind.AgentLost,
        "setup" => JobFailureKind.Setup,
        "cancelled" => JobFailureKind.Cancelled,
        _ => throw new FormatException($"unknown job failure kind '{value}'"),
    };
}
