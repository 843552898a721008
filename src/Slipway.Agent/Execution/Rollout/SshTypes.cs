namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Where a rollout target is reached over SSH. <paramref name="PinnedFingerprint"/> is the host key's
/// fingerprint exactly as <c>ssh-keygen -lf</c> prints it ("SHA256:" + unpadded base64); null means no key
/// is pinned yet, and such a target is refused (scan it with <see cref="SshHostKeyScanner"/> and pin it first).
/// </summary>
public sealed record SshEndpoint(string Host, int Port, string User, string? PinnedFingerprint)
{
    public override string ToString() => $"{User}@{Host}:{Port}";
}

/// <summary>
/// An OpenSSH private key as text (ed25519 or RSA, OpenSSH or PEM format), optionally protected by a passphrase.
/// ToString never shows the key.
/// </summary>
public sealed record SshCredentials(string PrivateKey, string? Passphrase)
{
    public override string ToString() => "SshCredentials(***)";
}

/// <summary>
/// The target presented a host key other than the pinned one (or no key is pinned). The connection was
/// closed right after key exchange: nothing was authenticated, sent or run.
/// </summary>
public sealed class HostKeyMismatchException(string host, string? expected, string actual)
    : Exception(expected is null
        ? $"Host key of {host} is not trusted: no host key pinned; the host presented {actual}. Pin it after checking it out of band."
        : $"Host key of {host} does not match the pinned key: expected {expected}, the host presented {actual}. Nothing was sent to the host.")
{
    public string Host { get; } = host;
    public string? Expected { get; } = expected;
    public string Actual { get; } = actual;
}

/// <summary>
/// A target could not be used: unreachable (refused, timed out), authentication refused, an unreadable key or
/// wrong passphrase, or a failed transfer. The message names host:port and the cause, never key material.
/// </summary>
public sealed class SshTargetException : Exception
{
    public SshTargetException(string message) : base(message) { }
    public SshTargetException(string message, Exception inner) : base(message, inner) { }
}
