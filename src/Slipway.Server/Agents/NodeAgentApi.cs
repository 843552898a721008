using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Agents;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Server.Targets;

using static Slipway.Server.Agents.AgentProtocolApi;

namespace Slipway.Server.Agents;

/// <summary>
/// Node agents (protocol 6, docs/agent-protocol.md#node-agents): the deploy agent coordinating a rollout hands each step of
/// a target served by a node agent to the server as a node task; that node agent (and no other: the task's agent comes
/// from the target's row, never from the request) claims it, runs it on its machine and reports the result, which the
/// deploy agent waits for. Only the holder of a rollout job's lease can create tasks, and only for targets of its plan.
/// </summary>
public static class NodeAgentApi
{
    /// <summary>A task its node agent has not taken by then is cancelled, and the target fails naming the agent.</summary>
    public static readonly TimeSpan PickupTimeout = TimeSpan.FromSeconds(20);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapNodeAgentApi(this RouteGroupBuilder agent)
    {
        agent.MapPost(AgentRoutes.NodeFiles, StoreFileAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.NodeTasks, CreateTaskAsync).RequireAction(Actions.AgentWork);
        agent.MapGet(AgentRoutes.NodeTaskStatus, TaskStatusAsync).RequireAction(Actions.AgentHeartbeat).WaitsByDesign();
        agent.MapPost(AgentRoutes.NodePoll, PollAsync).RequireAction(Actions.AgentHeartbeat).WaitsByDesign();
        agent.MapGet(AgentRoutes.NodeTaskFile, FileAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.NodeTaskFinish, FinishAsync).RequireAction(Actions.AgentWork);
        agent.MapGet(AgentRoutes.NodeTaskCheck, CheckAsync).RequireAction(Actions.AgentHeartbeat);
    }

    public static string Signal(long taskId) => "nodetask:" + taskId;
    public static string AgentSignal(string agentName) => "node:" + agentName;

    /// <summary>The most files one rollout job may store for its node tasks (each upload step's file once).</summary>
    public const int MaxFilesPerJob = 100;

    /// <summary>Node tasks belong to a rolling deployment's job (deploy or repair), not to any job of a deployment's run (verify).</summary>
    private static bool IsRollout(JobRow job) => JobSpec.FromJson(job.Spec).Rollout is not null;

    private static IResult Forbidden(string message) => Results.Json(new ErrorDto(message), statusCode: StatusCodes.Status403Forbidden);

    /// <summary>A file an upload task will put on a node, stored by digest; the job may name it in its tasks afterwards.</summary>
    private static async Task<IResult> StoreFileAsync(long id, HttpContext context, JobLeaseStore leases, RunStore runs, ArtifactFiles files, NodeTaskStore tasks)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        if ((await runs.GetRunRowAsync(job.RunId))?.DeploymentId is null || !IsRollout(job)) throw new ArgumentException($"job {id} is not a rolling deployment's job");
        if (await tasks.FileCountAsync(id) >= MaxFilesPerJob) throw new ArgumentException($"a rollout job stores at most {MaxFilesPerJob} files for its node tasks");
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;   // the artifact store enforces the artifact size limit
        var (sha, size) = await files.StoreAsync(context.Request.Body, context.RequestAborted);
        await tasks.RecordFileAsync(id, sha);
        return Results.Ok(new NodeFileStored(sha, size));
    }

    private static async Task<IResult> CreateTaskAsync(long id, NodeTaskRequest request, HttpContext context, JobLeaseStore leases, RunStore runs,
        DeploymentStore deployments, TargetStore targets, AgentStore agents, NodeTaskStore tasks, WorkSignal signal, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null || job.LeaseId != request.LeaseId) return LeaseLost(id);
        if (!NodeTaskKinds.All.Contains(request.Kind)) throw new ArgumentException($"'{request.Kind}' is not a node task kind");
        if (!IsRollout(job)) throw new ArgumentException($"job {id} is not a rolling deployment's job");
        var deploymentId = (await runs.GetRunRowAsync(job.RunId))?.DeploymentId ?? throw new ArgumentException($"job {id} is not part of a deployment");
        if (!(await targets.ResultsAsync(deploymentId)).Any(r => r.Target == request.Target))
            throw new KeyNotFoundException($"target '{request.Target}' is not in the plan of this deployment");
        var deployment = await deployments.GetAsync(deploymentId) ?? throw new KeyNotFoundException($"deployment {deploymentId} is gone");
        var target = await targets.FindAsync(deployment.EnvironmentId, request.Target);
        if (target?.NodeAgent is not { } agentName) throw new ArgumentException($"target '{request.Target}' is not served by a node agent");
        // Only to the agent registered for this very target (claims check it too): a target row naming an agent registered
        // for something else hands it nothing. One not registered yet simply never takes it (the pickup timeout says so).
        var path = $"{deployment.ProjectName}/{deployment.Environment}/{request.Target}";
        if (await agents.FindAsync(agentName) is { } named && named.NodeTarget != path)
            throw new ArgumentException($"agent {agentName} is not registered for {path} (it is " + (named.NodeTarget is { } other ? $"the node agent of {other}" : "a pool agent") +
                                        $"): start a node agent on the target with --target {path} and name that one");
        if (request.Kind == NodeTaskKinds.Upload && (request.FileSha256 is not { } sha || !await tasks.HasFileAsync(id, sha)))
            throw new ArgumentException("an upload task names a file this job stored (POST node-files) by its digest");
        if (request.Kind == NodeTaskKinds.Run && string.IsNullOrEmpty(request.Script)) throw new ArgumentException("a run task needs a script");
        var spec = new NodeTask(0, request.Target, request.Kind, request.Script, request.To, request.FileName, request.FileSha256 is not null,
            request.Variables ?? new Dictionary<string, string>(), Math.Clamp(request.TimeoutSeconds, 1, 24 * 3600));
        var taskId = await tasks.CreateAsync(id, request.Target, agentName, JsonSerializer.Serialize(spec, Json),
            request.Kind == NodeTaskKinds.Upload ? request.FileSha256 : null, clock.GetUtcNow().ToUnixTimeMilliseconds());
        signal.Signal(AgentSignal(agentName));
        return Results.Ok(new NodeTaskCreated(taskId));
    }

    /// <summary>Held until the task is final or <c>waitSeconds</c> pass; a task not taken within <see cref="PickupTimeout"/> is cancelled here.</summary>
    private static async Task<IResult> TaskStatusAsync(long id, long task, int? waitSeconds, HttpContext context, JobLeaseStore leases, NodeTaskStore tasks,
        AgentStore agents, WorkSignal signal, TimeProvider clock)
    {
        if (await LeasedAsync(id, context, leases) is null) return LeaseLost(id);
        var until = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? 0, 0, 30));
        while (true)
        {
            var woken = signal.WaitAsync(Signal(task));
            var row = await tasks.GetAsync(task);
            if (row is null || row.JobId != id) throw new KeyNotFoundException($"job {id} has no node task {task}");
            var now = clock.GetUtcNow();
            if (row.State == NodeTaskStates.Queued && now.ToUnixTimeMilliseconds() - row.CreatedAt > PickupTimeout.TotalMilliseconds
                && await tasks.CancelIfQueuedAsync(task, now.ToUnixTimeMilliseconds()))
            {
                var seen = (await agents.FindAsync(row.AgentName))?.LastSeenAt is { } at
                    ? $"last seen {(now - DateTimeOffset.FromUnixTimeMilliseconds(at)).TotalSeconds:0}s ago" : "never connected";
                return Results.Ok(new NodeTaskStatus(task, NodeTaskStates.Cancelled, null,
                    $"node agent {row.AgentName} did not take the step within {PickupTimeout.TotalSeconds:0}s ({seen}): is it running, approved and connected?", null));
            }
            if (NodeTaskStates.IsFinal(row.State) || now >= until || context.RequestAborted.IsCancellationRequested)
                return Results.Ok(new NodeTaskStatus(task, row.State, row.ExitCode, row.Reason, row.Output));
            try { await woken.WaitAsync(TimeSpan.FromSeconds(1), context.RequestAborted); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>A node agent's long poll: its oldest queued task, or 204. An agent that serves no target is refused.</summary>
    private static async Task<IResult> PollAsync(NodePollRequest request, HttpContext context, TargetStore targets, NodeTaskStore tasks, AgentStore agents,
        WorkSignal signal, TimeProvider clock)
    {
        var agent = context.RequireAgent();
        await agents.TouchAsync(agent.Id, clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (agent.NodeTarget is not { } nodeTarget)
            return Forbidden($"agent {agent.Name} is no target's node agent: register one with --target PROJECT/ENV/TARGET, named on that target (slipway target edit PROJECT ENV TARGET --node-agent NAME)");
        var until = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Clamp(request.WaitSeconds, 0, 60));
        while (true)
        {
            var woken = signal.WaitAsync(AgentSignal(agent.Name));
            if (await tasks.ClaimNextAsync(agent.Name, nodeTarget, clock.GetUtcNow().ToUnixTimeMilliseconds()) is { } row)
                return Results.Ok(JsonSerializer.Deserialize<NodeTask>(row.Spec, Json)! with { TaskId = row.Id });
            if (clock.GetUtcNow() >= until || context.RequestAborted.IsCancellationRequested) return Results.NoContent();
            // The signal is in-process; the periodic look finds tasks created through another server node.
            try { await woken.WaitAsync(TimeSpan.FromSeconds(2), context.RequestAborted); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { return Results.NoContent(); }
        }
    }

    private static async Task<NodeTaskRow?> ClaimedAsync(long task, HttpContext context, NodeTaskStore tasks) =>
        await tasks.GetAsync(task) is { } row && row.AgentName == context.RequireAgent().Name && row.State == NodeTaskStates.Running ? row : null;

    private static async Task<IResult> FileAsync(long task, HttpContext context, NodeTaskStore tasks, ArtifactFiles files)
    {
        var row = await ClaimedAsync(task, context, tasks) ?? throw new KeyNotFoundException($"node task {task} is not running on this agent");
        var stream = row.FileSha256 is { } sha ? await files.OpenReadAsync(sha, context.RequestAborted) : null;
        return stream is null ? throw new KeyNotFoundException($"node task {task} has no file") : Results.Stream(stream, "application/octet-stream");
    }

    /// <summary>
    /// Whether a running task must stop: once its rollout's job is no longer running (the deploy agent was lost, the
    /// deployment timed out or ended), nobody waits for the step any more and it must not go on changing the server.
    /// </summary>
    private static async Task<NodeTaskCheck> CheckAsync(long task, HttpContext context, NodeTaskStore tasks)
    {
        var row = await ClaimedAsync(task, context, tasks) ?? throw new KeyNotFoundException($"node task {task} is not running on this agent");
        var jobStatus = await tasks.JobStatusAsync(row.JobId);
        return jobStatus == "running" ? new NodeTaskCheck(false, null)
            : new NodeTaskCheck(true, $"its rollout's job has ended ({jobStatus ?? "gone"}): nobody waits for this step any more");
    }

    private static async Task<IResult> FinishAsync(long task, NodeTaskFinish result, HttpContext context, NodeTaskStore tasks, WorkSignal signal, TimeProvider clock)
    {
        if (result.State is not (NodeTaskStates.Succeeded or NodeTaskStates.Failed)) throw new ArgumentException($"'{result.State}' is not a node task outcome");
        var finished = await tasks.FinishAsync(task, context.RequireAgent().Name, result.State, result.ExitCode, Short(result.Reason, 2000), result.Output,
            clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (!finished) return Results.Json(new ErrorDto($"node task {task} is not running on this agent"), statusCode: StatusCodes.Status409Conflict);
        signal.Signal(Signal(task));
        return Results.NoContent();
    }

    private static string? Short(string? text, int max) => text is null ? null : text.Length <= max ? text : text[..(max - 3)] + "...";
}
