using Slipway.Agent.Execution.Rollout;

namespace Slipway.Server.Targets;

/// <summary>Reads a target's host key with the agent's SSH client (the same code that checks it during a rollout).</summary>
public sealed class SshHostKeys : IHostKeyScanner
{
    public Task<(string Fingerprint, string KeyType)> ScanAsync(string host, int port, TimeSpan timeout, CancellationToken ct) =>
        SshHostKeyScanner.ScanAsync(host, port, timeout, ct);
}
