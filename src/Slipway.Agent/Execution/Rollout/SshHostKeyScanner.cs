using Renci.SshNet;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Reads a host's SSH host key fingerprint (like <c>ssh-keyscan | ssh-keygen -lf -</c>): connects, takes the key
/// from key exchange and refuses it, so the connection closes before any authentication. What it returns is only
/// as trustworthy as the network path at that moment: check it out of band before pinning it.
/// </summary>
public static class SshHostKeyScanner
{
    /// <returns>The fingerprint as <c>ssh-keygen -lf</c> prints it ("SHA256:...") and the key type (e.g. "ssh-ed25519").</returns>
    /// <exception cref="SshTargetException">Unreachable, timed out, or the session failed before a key was presented.</exception>
    public static async Task<(string Fingerprint, string KeyType)> ScanAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var target = $"{host}:{port}";
        // The auth method is never used: the key is refused first.
        var info = new ConnectionInfo(host, port, "slipway-scan", new NoneAuthenticationMethod("slipway-scan")) { Timeout = timeout };
        using var client = new SshClient(info);
        (string, string)? seen = null;
        client.HostKeyReceived += (_, e) =>
        {
            seen = ("SHA256:" + e.FingerPrintSHA256, e.HostKeyName);
            e.CanTrust = false;
        };
        try
        {
            await SshConnect.WithDeadlineAsync(client, target, timeout, ct);
        }
        catch (SshTargetException) when (seen is not null)
        {
            // Expected: the refusal of the key ends the session.
        }
        return seen ?? throw new SshTargetException($"SSH to {target}: the host presented no host key");
    }
}
