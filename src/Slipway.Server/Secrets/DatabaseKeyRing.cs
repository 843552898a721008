using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Slipway.Server.Secrets;

/// <summary>
/// The Data Protection key ring in the database, for servers on PostgreSQL: the keys encrypt stored secrets, sign-in
/// cookies and form tokens, so every node must share them (a key ring per node would make each node's secrets and
/// sessions unreadable to the others). The keys are as sensitive as the database they sit in; see docs/security.md.
/// A server that kept its ring in DATA/keys before moving to several nodes has it imported once
/// (<see cref="ImportFromFolder"/>), so its secrets stay readable.
/// </summary>
public sealed class DatabaseKeyRing(SqlDatabase database) : IXmlRepository
{
    // Data Protection asks rarely (at start and when it makes a key every 90 days) and synchronously, hence the blocking calls.
    public IReadOnlyCollection<XElement> GetAllElements() =>
        database.ReadAsync(c => c.QueryAsync<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, name"))
            .GetAwaiter().GetResult().Select(x => XElement.Parse(x)).ToList();

    public void StoreElement(XElement element, string friendlyName) => Store(friendlyName, element.ToString(SaveOptions.DisableFormatting));

    private void Store(string name, string xml) =>
        database.WriteAsync((c, tx) => c.ExecuteAsync(
                "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING",
                new { name, xml, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, tx))
            .GetAwaiter().GetResult();

    /// <summary>Copies the keys of a key-ring folder into the database when the database has none yet. Returns how many.</summary>
    public int ImportFromFolder(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        if (database.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM data_protection_keys")).GetAwaiter().GetResult() > 0) return 0;
        var files = Directory.GetFiles(folder, "*.xml").Order(StringComparer.Ordinal).ToList();
        foreach (var file in files) Store(Path.GetFileNameWithoutExtension(file), File.ReadAllText(file));
        return files.Count;
    }
}
