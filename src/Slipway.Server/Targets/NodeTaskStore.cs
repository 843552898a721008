using Dapper;
using Slipway.Contracts.Agents;

namespace Slipway.Server.Targets;

public sealed class NodeTaskRow
{
    public long Id { get; set; }
    public long JobId { get; set; }
    public string Target { get; set; } = "";
    public string AgentName { get; set; } = "";
    public string Spec { get; set; } = "";
    public string? FileSha256 { get; set; }
    public string State { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? ClaimedAt { get; set; }
    public long? FinishedAt { get; set; }
    public int? ExitCode { get; set; }
    public string? Reason { get; set; }
    public string? Output { get; set; }
}

/// <summary>
/// The steps a rollout hands to node agents (docs/agent-protocol.md#node-agents). A task moves queued → running (claimed by
/// its node agent) → succeeded or failed, or queued → cancelled (the coordinator gave up waiting). Every move is a
/// conditional update on the state it leaves, so a task is never claimed twice nor finished by another agent.
/// </summary>
public sealed class NodeTaskStore(SqlDatabase db)
{
    public const int MaxOutputChars = 64 * 1024;
    private const string Columns = "id, job_id, target, agent_name, spec, file_sha256, state, created_at, claimed_at, finished_at, exit_code, reason, output";

    /// <summary>How long the node tasks of an ended job are kept (their output is in the job's log by then).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    /// <summary>
    /// Deletes the node tasks (scripts, up to 64 KiB of output each) and file grants of jobs that ended before
    /// <paramref name="before"/>: a task of an ended job is never handed out, and the deploy agent wrote its output to
    /// the job's log. Returns how many tasks went.
    /// </summary>
    public Task<int> PruneAsync(long before) =>
        db.WriteAsync(async (c, tx) =>
        {
            const string Ended = "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < @before";
            await c.ExecuteAsync($"DELETE FROM node_files WHERE job_id IN ({Ended})", new { before }, tx);
            return await c.ExecuteAsync($"DELETE FROM node_tasks WHERE job_id IN ({Ended})", new { before }, tx);
        });

    public Task<long> CreateAsync(long jobId, string target, string agentName, string spec, string? fileSha256, long now) =>
        db.WriteAsync((c, tx) => c.ExecuteScalarAsync<long>(
            "INSERT INTO node_tasks (job_id, target, agent_name, spec, file_sha256, state, created_at) " +
            $"VALUES (@jobId, @target, @agentName, @spec, @fileSha256, '{NodeTaskStates.Queued}', @now) RETURNING id",
            new { jobId, target, agentName, spec, fileSha256, now }, tx));

    public Task<NodeTaskRow?> GetAsync(long id) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<NodeTaskRow?>($"SELECT {Columns} FROM node_tasks WHERE id = @id", new { id }));

    /// <summary>
    /// The agent's oldest queued task, now running. Only tasks of a rollout job still running are handed out: a step
    /// queued by a deploy agent that has since died must never run later on its own.
    /// </summary>
    /// <param name="nodeTarget">PROJECT/ENV/TARGET the agent registered for: only that target's tasks are handed to it.</param>
    public Task<NodeTaskRow?> ClaimNextAsync(string agentName, string nodeTarget, long now) =>
        db.WriteAsync<NodeTaskRow?>(async (c, tx) =>
        {
            var candidates = (await c.QueryAsync<long>(
                "SELECT t.id FROM node_tasks t JOIN jobs j ON j.id = t.job_id JOIN runs r ON r.id = j.run_id JOIN deployments d ON d.id = r.deployment_id " +
                "JOIN environments e ON e.id = d.environment_id JOIN projects p ON p.id = e.project_id " +
                $"WHERE t.agent_name = @agentName AND t.state = '{NodeTaskStates.Queued}' AND j.status = 'running' " +
                "AND p.name || '/' || e.name || '/' || t.target = @nodeTarget ORDER BY t.id LIMIT 5", new { agentName, nodeTarget }, tx)).ToList();
            foreach (var id in candidates)
            {
                var claimed = await c.ExecuteAsync(
                    $"UPDATE node_tasks SET state = '{NodeTaskStates.Running}', claimed_at = @now WHERE id = @id AND state = '{NodeTaskStates.Queued}'",
                    new { id, now }, tx);
                if (claimed == 1)
                    return await c.QuerySingleAsync<NodeTaskRow>($"SELECT {Columns} FROM node_tasks WHERE id = @id", new { id }, tx);
            }
            return null;
        });

    /// <summary>False unless the task was running and claimed by <paramref name="agentName"/>.</summary>
    public Task<bool> FinishAsync(long id, string agentName, string state, int? exitCode, string? reason, string? output, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "UPDATE node_tasks SET state = @state, exit_code = @exitCode, reason = @reason, output = @output, finished_at = @now " +
            $"WHERE id = @id AND agent_name = @agentName AND state = '{NodeTaskStates.Running}'",
            new { id, agentName, state, exitCode, reason, output = Tail(output), now }, tx) == 1);

    /// <summary>The coordinator gave up before the node agent took the task; false when it was taken meanwhile.</summary>
    public Task<bool> CancelIfQueuedAsync(long id, long now) =>
        db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            $"UPDATE node_tasks SET state = '{NodeTaskStates.Cancelled}', finished_at = @now, reason = 'the node agent did not take it in time' " +
            $"WHERE id = @id AND state = '{NodeTaskStates.Queued}'", new { id, now }, tx) == 1);

    public Task RecordFileAsync(long jobId, string sha256) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO node_files (job_id, sha256) VALUES (@jobId, @sha256) ON CONFLICT (job_id, sha256) DO NOTHING", new { jobId, sha256 }, tx));

    public Task<string?> JobStatusAsync(long jobId) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<string?>("SELECT status FROM jobs WHERE id = @jobId", new { jobId }));

    public Task<long> FileCountAsync(long jobId) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM node_files WHERE job_id = @jobId", new { jobId }));

    public Task<bool> HasFileAsync(long jobId, string sha256) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM node_files WHERE job_id = @jobId AND sha256 = @sha256",
            new { jobId, sha256 }) > 0);

    private static string? Tail(string? output) => output is null || output.Length <= MaxOutputChars ? output : output[^MaxOutputChars..];
}
