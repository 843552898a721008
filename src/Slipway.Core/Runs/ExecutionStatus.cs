namespace Slipway.Core.Runs;

/// <summary>
/// The status of a run, a stage or a job. Stored and sent as lower-case words (<see cref="StatusNames"/>).
/// <c>Pending</c>: a job or stage waiting for an earlier stage; <c>Skipped</c>: never ran (a <c>when</c>
/// filter, or an earlier stage failed).
/// </summary>
public enum ExecutionStatus { Pending, Queued, Running, Succeeded, Failed, Cancelled, Skipped }

public static class StatusNames
{
    public static string ToWire(this ExecutionStatus status) => status switch
    {
        ExecutionStatus.Pending => "pending",
        ExecutionStatus.Queued => "queued",
        ExecutionStatus.Running => "running",
        ExecutionStatus.Succeeded => "succeeded",
        ExecutionStatus.Failed => "failed",
        ExecutionStatus.Cancelled => "cancelled",
        ExecutionStatus.Skipped => "skipped",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static ExecutionStatus Parse(string value) => value switch
    {
        "pending" => ExecutionStatus.Pending,
        "queued" => ExecutionStatus.Queued,
        "running" => ExecutionStatus.Running,
        "succeeded" => ExecutionStatus.Succeeded,
        "failed" => ExecutionStatus.Failed,
        "cancelled" => ExecutionStatus.Cancelled,
        "skipped" => ExecutionStatus.Skipped,
        _ => throw new FormatException($"unknown status '{value}'"),
    };

    public static bool IsFinal(this ExecutionStatus s) =>
        s is ExecutionStatus.Succeeded or ExecutionStatus.Failed or ExecutionStatus.Cancelled or ExecutionStatus.Skipped;
}
