using System.Text.RegularExpressions;

namespace Slipway.Core.Nodes;

/// <summary>
/// A server node's name: 1-55 of [A-Za-z0-9._-]. It is the key of the node's row and the holder of its duty leases, so
/// two nodes must never share one (the default, the host name, is unique per machine; tests on one machine set it).
/// </summary>
public static partial class NodeNames
{
    /// <summary>
    /// 55: the node's embedded agent is named "embedded-NODE" on PostgreSQL, and agent names have at most 64 characters.
    /// </summary>
    public const int MaxLength = 55;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,55}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>The name, or an <see cref="ArgumentException"/> saying what is allowed.</summary>
    public static string Check(string? name) => IsValid(name)
        ? name!
        : throw new ArgumentException($"node name '{name}' is not valid: use 1-{MaxLength} letters, digits, '.', '_' or '-'");

    /// <summary>A valid node name made from a host name: other characters become '-', cut to <see cref="MaxLength"/>.</summary>
    public static string FromHostName(string host)
    {
        var name = new string(host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray());
        return name.Length == 0 ? "slipway" : name.Length > MaxLength ? name[..MaxLength] : name;
    }

    /// <summary>
    /// A node is alive while its heartbeat is at most three intervals old: one late heartbeat (a slow database, a
    /// pause) does not make it look dead, and a stopped or killed node shows as dead within seconds.
    /// </summary>
    public static bool IsAlive(long heartbeatAtMs, long? stoppedAtMs, long nowMs, TimeSpan heartbeatInterval) =>
        stoppedAtMs is null && nowMs - heartbeatAtMs <= 3 * (long)heartbeatInterval.TotalMilliseconds;
}
