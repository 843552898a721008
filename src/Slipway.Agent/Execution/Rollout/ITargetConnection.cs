namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// How the deploy agent reaches one target for its steps: over SSH (<see cref="SshTargetConnection"/>) or through the
/// target's own node agent (<see cref="NodeTargetConnection"/>). Both run a script with the step's SLIPWAY_* values and
/// put a file at a path (a trailing '/' keeps the file's name; no folder is created).
/// </summary>
public interface ITargetConnection : IAsyncDisposable
{
    /// <summary>The host key the SSH connection verified (known_hosts form), for Ansible; null for a node agent.</summary>
    string? HostKey { get; }

    /// <summary>The script's exit code; its output lines go to <paramref name="onOutput"/>.</summary>
    Task<int> RunAsync(string script, IReadOnlyDictionary<string, string> variables, Func<string, Task> onOutput, TimeSpan timeout, CancellationToken ct);

    Task UploadAsync(string localPath, string remotePath, CancellationToken ct);
}
