namespace Slipway.Contracts.Agents;

// Node agents (protocol 6, docs/agent-protocol.md#node-agents): a target served by an agent running on it. The deploy agent
// coordinating the rollout keeps the batches, the load balancers and the health checks; each of the target's steps is
// handed to its node agent through the server as a node task, which the node agent claims, runs locally and finishes.

/// <summary>What a node task asks: check (answer at once: the node agent is there), run (a script) or upload (a file).</summary>
public static class NodeTaskKinds
{
    public const string Check = "check";
    public const string Run = "run";
    public const string Upload = "upload";
    public static readonly IReadOnlySet<string> All = new HashSet<string> { Check, Run, Upload };
}

public static class NodeTaskStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public static bool IsFinal(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>
/// POST jobs/{id}/node-tasks, by the rollout job's lease holder: one step for a target of its plan served by a node agent.
/// <c>Script</c> for run; <c>To</c> (a folder when it ends in '/'), <c>FileName</c> and <c>FileSha256</c> (from
/// POST jobs/{id}/node-files) for upload. <c>Variables</c>: the step's SLIPWAY_* values, the only ones it gets besides the node agent's own.
/// </summary>
public sealed record NodeTaskRequest(string LeaseId, string Target, string Kind, string? Script, string? To, string? FileName, string? FileSha256,
    IReadOnlyDictionary<string, string> Variables, int TimeoutSeconds);

/// <summary>The answer to POST jobs/{id}/node-tasks and jobs/{id}/node-files.</summary>
public sealed record NodeTaskCreated(long TaskId);
public sealed record NodeFileStored(string Sha256, long Size);

/// <summary>GET jobs/{id}/node-tasks/{task}?waitSeconds=N: held until the task is final or the wait is over.</summary>
public sealed record NodeTaskStatus(long TaskId, string State, int? ExitCode, string? Reason, string? Output);

/// <summary>POST node/poll by a node agent: its next task, or 204 after the wait.</summary>
public sealed record NodePollRequest(int WaitSeconds);

/// <summary>A task handed to the node agent; <c>HasFile</c>: GET node/tasks/{task}/file gives an upload's content.</summary>
public sealed record NodeTask(long TaskId, string Target, string Kind, string? Script, string? To, string? FileName, bool HasFile,
    IReadOnlyDictionary<string, string> Variables, int TimeoutSeconds);

/// <summary>GET node/tasks/{task} while a task runs: <c>Stop</c> once its rollout's job has ended (the deploy agent lost, timed out, done).</summary>
public sealed record NodeTaskCheck(bool Stop, string? Why);

/// <summary>POST node/tasks/{task}/finish: succeeded or failed, the exit code of a run, why it failed, the output's tail.</summary>
public sealed record NodeTaskFinish(string State, int? ExitCode, string? Reason, string? Output);
