namespace Slipway.Contracts.Agents;

/// <summary>
/// The agent protocol's addresses (docs/agent-protocol.md), written once: the server maps these templates and the
/// agent's client fills them in (<see cref="For"/>), so the two cannot drift apart. Templates are relative to
/// <see cref="Prefix"/>; <c>{id}</c> is the job id and <c>{sha256}</c> an artifact's digest.
/// </summary>
public static class AgentRoutes
{
    /// <summary>Where the protocol lives on the server.</summary>
    public const string Prefix = "/api/v1/agent";

    public const string Register = "register";
    public const string Poll = "poll";
    public const string Source = "jobs/{id:long}/source";
    public const string Start = "jobs/{id:long}/start";
    public const string Renew = "jobs/{id:long}/renew";
    public const string Log = "jobs/{id:long}/log";
    public const string UploadArtifact = "jobs/{id:long}/artifacts";
    public const string DownloadArtifact = "jobs/{id:long}/artifacts/{sha256}";
    public const string Finish = "jobs/{id:long}/finish";
    public const string TargetProgress = "jobs/{id:long}/targets";
    public const string TargetDecision = "jobs/{id:long}/decision";
    public const string NodeFiles = "jobs/{id:long}/node-files";
    public const string NodeTasks = "jobs/{id:long}/node-tasks";
    public const string NodeTaskStatus = "jobs/{id:long}/node-tasks/{task:long}";
    public const string NodePoll = "node/poll";
    public const string NodeTaskFile = "node/tasks/{task:long}/file";
    public const string NodeTaskFinish = "node/tasks/{task:long}/finish";
    public const string NodeTaskCheck = "node/tasks/{task:long}";

    /// <summary>A node-task template filled in: <c>ForTask(NodeTaskFile, 9)</c> is <c>node/tasks/9/file</c>.</summary>
    public static string ForTask(string template, long taskId, long jobId = 0) =>
        For(template, jobId).Replace("{task:long}", taskId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>A template filled in for one job (and artifact): <c>For(Log, 7)</c> is <c>jobs/7/log</c>.</summary>
    public static string For(string template, long jobId, string? sha256 = null)
    {
        var path = template.Replace("{id:long}", jobId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        if (path.Contains("{sha256}", StringComparison.Ordinal))
            path = path.Replace("{sha256}", Uri.EscapeDataString(sha256 ?? throw new ArgumentNullException(nameof(sha256))), StringComparison.Ordinal);
        return path;
    }
}
