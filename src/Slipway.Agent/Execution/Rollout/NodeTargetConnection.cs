using System.Collections.Concurrent;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>A node agent could not carry out a step: not connected, not answering in time, or the step could not start there.</summary>
public sealed class NodeAgentException(string message) : Exception(message);

/// <summary>
/// A target served by its node agent (protocol 6): every step becomes a node task the server hands to that agent, and this
/// side waits for its result. "Connecting" is a check task: it proves the node agent is there and answering before the
/// target is taken out of rotation, as the SSH handshake does for an SSH target. A script's output arrives when it ends.
/// </summary>
public sealed class NodeTargetConnection : ITargetConnection
{
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(10);
    /// <summary>Beyond the step's own time limit: the node agent's pickup (the server cancels after 20 s) and its report.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(45);

    private readonly IAgentProtocol _client;
    private readonly JobLease _lease;
    private readonly RolloutTargetSpec _target;
    private readonly NodeFiles _files;

    private NodeTargetConnection(IAgentProtocol client, JobLease lease, RolloutTargetSpec target, NodeFiles files)
    {
        _client = client;
        _lease = lease;
        _target = target;
        _files = files;
    }

    public string? HostKey => null;

    public static async Task<NodeTargetConnection> ConnectAsync(IAgentProtocol client, JobLease lease, RolloutTargetSpec target, NodeFiles files, CancellationToken ct)
    {
        var connection = new NodeTargetConnection(client, lease, target, files);
        var status = await connection.RunTaskAsync(NodeTaskKinds.Check, null, null, null, null, new Dictionary<string, string>(), TimeSpan.FromSeconds(10), ct);
        if (status.State != NodeTaskStates.Succeeded)
            throw new NodeAgentException(status.Reason ?? $"node agent {target.NodeAgent} did not answer ({status.State})");
        return connection;
    }

    public async Task<int> RunAsync(string script, IReadOnlyDictionary<string, string> variables, Func<string, Task> onOutput, TimeSpan timeout, CancellationToken ct)
    {
        var status = await RunTaskAsync(NodeTaskKinds.Run, script, null, null, null, variables, timeout, ct);
        foreach (var line in (status.Output ?? "").Split('\n', StringSplitOptions.None).SkipLast(status.Output?.EndsWith('\n') == true ? 1 : 0))
            if (status.Output is { Length: > 0 }) await onOutput(line);
        return status.ExitCode ?? throw new NodeAgentException(status.Reason ?? $"the step ended {status.State} on node agent {_target.NodeAgent}");
    }

    public async Task UploadAsync(string localPath, string remotePath, CancellationToken ct)
    {
        var sha = await _files.StoreAsync(localPath, ct);
        var status = await RunTaskAsync(NodeTaskKinds.Upload, null, remotePath, Path.GetFileName(localPath), sha, new Dictionary<string, string>(),
            TimeSpan.FromMinutes(30), ct);
        if (status.State != NodeTaskStates.Succeeded)
            throw new NodeAgentException($"{remotePath}: {status.Reason ?? status.State}");
    }

    private async Task<NodeTaskStatus> RunTaskAsync(string kind, string? script, string? to, string? fileName, string? sha,
        IReadOnlyDictionary<string, string> variables, TimeSpan limit, CancellationToken ct)
    {
        NodeTaskCreated created;
        try
        {
            created = await _client.CreateNodeTaskAsync(_lease, new NodeTaskRequest(_lease.LeaseId, _target.Name, kind, script, to, fileName, sha,
                variables, (int)Math.Ceiling(limit.TotalSeconds)), ct);
        }
        catch (Protocol.AgentRefusedException e)
        {
            // The server refused this step for this target (e.g. its node agent is registered for another target): the target fails.
            throw new NodeAgentException(e.Message);
        }
        var deadline = DateTimeOffset.UtcNow + limit + Slack;
        while (true)
        {
            var status = await _client.NodeTaskStatusAsync(_lease, created.TaskId, StatusWait, ct);
            if (NodeTaskStates.IsFinal(status.State)) return status;
            if (DateTimeOffset.UtcNow > deadline)
                throw new NodeAgentException($"node agent {_target.NodeAgent} did not report the step within {(limit + Slack).TotalSeconds:0}s (state {status.State})");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>The release files a rollout sends to node agents, each stored on the server once however many targets get it.</summary>
public sealed class NodeFiles(IAgentProtocol client, JobLease lease)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _stored = new(StringComparer.Ordinal);

    public Task<string> StoreAsync(string localPath, CancellationToken ct) =>
        _stored.GetOrAdd(localPath, path => new Lazy<Task<string>>(async () =>
        {
            await using var file = File.OpenRead(path);
            return (await client.UploadNodeFileAsync(lease, file, ct)).Sha256;
        })).Value;
}
