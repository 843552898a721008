namespace Slipway.Server.Database;

/// <summary>Timestamps are stored as unix milliseconds (UTC) in both databases.</summary>
public static class UnixMs
{
    public static long From(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
    public static DateTimeOffset To(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
    public static DateTimeOffset? To(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}
