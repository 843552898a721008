using Npgsql;

namespace Slipway.Server.Database;

/// <summary>
/// Accepts the database as a URL too (<c>postgres://user:password@host:5432/slipway?sslmode=require</c>, the form most
/// hosting providers hand out and issue 15's examples use) besides Npgsql's own <c>Host=...;Username=...</c> form.
/// </summary>
public static class PostgresAddress
{
    public static string ToConnectionString(string database)
    {
        if (!database.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !database.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return database;
        if (!Uri.TryCreate(database, UriKind.Absolute, out var url) || url.Host.Length == 0)
            throw new ArgumentException("the database URL must look like postgres://user:password@host:5432/name");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host.Trim('[', ']'),
            Port = url.IsDefaultPort || url.Port < 0 ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')) is { Length: > 0 } name ? name : null,
        };
        if (url.UserInfo.Length > 0)
        {
            var colon = url.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            try { builder[key] = Uri.UnescapeDataString(equals < 0 ? "" : pair[(equals + 1)..]); }
            catch (ArgumentException) { throw new ArgumentException($"the database URL's parameter '{key}' is not a PostgreSQL connection setting"); }
        }
        return builder.ConnectionString;
    }
}
