using Microsoft.Extensions.Logging;
using Slipway.Agent.Protocol;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Node;

/// <summary>
/// A node agent's only loop (an agent started with --target PROJECT/ENV/NAME): it never takes pool jobs, only the steps a
/// rollout hands to the target it serves, one at a time, in the order they were asked. The deploy agent coordinating the
/// rollout keeps the batches, the load balancers and the health checks (docs/agent-protocol.md#node-agents).
/// </summary>
public sealed class NodeAgentLoop(IAgentProtocol client, AgentOptions options, RefusalBackoff refusals, ILogger log)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var runner = new NodeStepRunner(options);
        log.LogInformation("node agent {Name} serves target {Target}", options.Name, options.Target);
        while (!ct.IsCancellationRequested)
        {
            NodeTask? task;
            var sentAt = RefusalBackoff.Mark();
            try
            {
                task = await client.NodePollAsync(options.PollWait, ct);
                if (refusals.Accepted(sentAt)) log.LogInformation("node agent {Name}: the server accepts it again", options.Name);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (AgentRefusedException e)
            {
                var (wait, newStreak) = refusals.Refused();
                if (newStreak) log.LogWarning("node agent {Name}: the server refused the poll ({Status}): {Error}; retrying ever more slowly",
                    options.Name, (int)e.Status, e.Message);
                await DelayAsync(wait, ct);
                continue;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                log.LogDebug("node agent {Name}: poll failed ({Error}); retrying", options.Name, e.Message);
                await DelayAsync(options.RetryDelay, ct);
                continue;
            }
            if (task is null) continue;
            log.LogInformation("node agent {Name}: task {Task} ({Kind}) for {Target}", options.Name, task.TaskId, task.Kind, task.Target);
            NodeTaskFinish result;
            using (var asking = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                result = await runner.RunAsync(task, c => client.NodeTaskFileAsync(task.TaskId, c), ct, StopRequestedAsync(task.TaskId, asking.Token));
                asking.Cancel();   // the task is over: stop asking
            }
            await FinishAsync(task, result, ct);
        }
    }

    /// <summary>
    /// Completes with why, once the server says the task must stop (its rollout's job ended); asked every 2 s while it
    /// runs. Network errors are ignored: the step's own time limit still bounds it.
    /// </summary>
    private async Task<string> StopRequestedAsync(long taskId, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(2), ct); }
            catch (OperationCanceledException) { break; }
            try
            {
                if (await client.NodeTaskCheckAsync(taskId, ct) is { Stop: true } check) return check.Why ?? "the server asked it to stop";
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or AgentRefusedException) { }
        }
        return "";   // not a stop: the task ended, or the agent is stopping (its own token says so)
    }

    /// <summary>Retried for a while: the deploy agent waits for this answer, and a lost one would fail the target.</summary>
    private async Task FinishAsync(NodeTask task, NodeTaskFinish result, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.NodeTaskFinishAsync(task.TaskId, result, ct);
                return;
            }
            catch (Exception e) when (attempt < 10 && !ct.IsCancellationRequested && e is HttpRequestException or IOException or TaskCanceledException)
            {
                await DelayAsync(options.RetryDelay, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError("node agent {Name}: the end of task {Task} could not be reported: {Error}", options.Name, task.TaskId, e.Message);
                return;
            }
        }
    }

    private static async Task DelayAsync(TimeSpan wait, CancellationToken ct)
    {
        try { await Task.Delay(wait, ct); }
        catch (OperationCanceledException) { }
    }
}
