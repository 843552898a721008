using System.Text.RegularExpressions;

namespace Slipway.Core.Deployments.Rollout;

/// <summary>
/// A server a release is rolled out to: where to reach it by SSH, the roles it plays and the load-balancer server it
/// sits behind (<c>backend/server</c> of the environment's balancer). A disabled target is left out of every plan.
/// </summary>
public sealed record DeploymentTarget(
    string Name,
    string Host,
    int SshPort,
    string SshUser,
    IReadOnlyList<string> Roles,
    string? BalancerServer,
    string? HostKeyFingerprint,
    bool Disabled,
    string? NodeAgent = null)
{
    /// <summary>True when the target's steps run on its own node agent (<see cref="NodeAgent"/>) rather than over SSH.</summary>
    public bool ViaNodeAgent => NodeAgent is not null;

    /// <summary>The HAProxy backend of <see cref="BalancerServer"/>, or null when the target sits behind no balancer.</summary>
    public string? Backend => BalancerServer?.Split('/')[0];

    /// <summary>The HAProxy server name of <see cref="BalancerServer"/>.</summary>
    public string? Server => BalancerServer?.Split('/')[1];
}

/// <summary>
/// What a target's fields may contain. Every value ends up in an SSH connection, an HAProxy command or a step's
/// environment, so each is held to a strict alphabet here: no shell or runtime-API metacharacter can get in.
/// </summary>
public static partial class TargetRules
{
    public const int MaxRoles = 16;

    /// <summary>Null when valid; else what is wrong.</summary>
    public static string? CheckName(string name, string what = "target name") =>
        NamePattern().IsMatch(name) ? null : $"invalid {what} '{Printable(name)}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    public static string? CheckHost(string host) =>
        HostPattern().IsMatch(host) ? null : $"invalid address '{Printable(host)}': give a host name or an IP address (letters, digits, '.', '-', ':')";

    public static string? CheckUser(string user) =>
        UserPattern().IsMatch(user) ? null : $"invalid SSH user '{Printable(user)}': use 1-32 lower-case letters, digits, '_' or '-', starting with a letter or '_'";

    public static string? CheckPort(int port) => port is >= 1 and <= 65535 ? null : $"invalid SSH port {port}: 1-65535";

    /// <summary><c>backend/server</c>, both HAProxy names.</summary>
    public static string? CheckBalancerServer(string value)
    {
        var parts = value.Split('/');
        return parts.Length == 2 && HaproxyName().IsMatch(parts[0]) && HaproxyName().IsMatch(parts[1]) ? null
            : $"invalid load-balancer server '{Printable(value)}': write BACKEND/SERVER with letters, digits, '.', '_', ':' or '-'";
    }

    /// <summary>An OpenSSH SHA-256 fingerprint as <c>ssh-keygen -lf</c> prints it: <c>SHA256:</c> and 43 base64 characters.</summary>
    public static string? CheckFingerprint(string value) =>
        FingerprintPattern().IsMatch(value) ? null : $"invalid host key fingerprint '{Printable(value)}': expected SHA256: followed by 43 base64 characters, as ssh-keygen -lf prints it";

    public static string? CheckRoles(IReadOnlyList<string> roles) =>
        roles.Count > MaxRoles ? $"a target has at most {MaxRoles} roles" : roles.Select(r => CheckName(r, "role")).FirstOrDefault(e => e is not null);

    private static string Printable(string s)
    {
        var t = new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return t.Length > 80 ? t[..77] + "..." : t;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9:][A-Za-z0-9.:-]{0,252}$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserPattern();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex HaproxyName();

    [GeneratedRegex("^SHA256:[A-Za-z0-9+/]{43}$", RegexOptions.CultureInvariant)]
    private static partial Regex FingerprintPattern();
}
