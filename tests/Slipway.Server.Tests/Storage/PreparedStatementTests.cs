using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Slipway.Server.Nodes;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>
/// PostgreSQL connections prepare the statements they repeat (<see cref="SqlDatabase.PoolSettings"/>). A prepared
/// statement whose result shape changes fails ("cached plan must not change result type"), which is what a rolling
/// upgrade does when the first new node's migration adds a column while old nodes still run: Slipway's SQL names its columns.
/// </summary>
[Collection("postgres")]
public sealed class PreparedStatementTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PoolSettings_PrepareRepeatedStatements_UnlessTheOperatorSaysOtherwise()
    {
        var built = new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db"));
        Assert.Equal((SqlDatabase.DefaultMaxAutoPrepare, 2), (built.MaxAutoPrepare, built.AutoPrepareMinUsages));
        var off = new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db;Max Auto Prepare=0;Auto Prepare Min Usages=7"));
        Assert.Equal((0, 7), (off.MaxAutoPrepare, off.AutoPrepareMinUsages));
    }

    [Fact]
    public async Task AStatementPreparedBeforeAnotherNodesMigration_StillAnswersAfterIt()
    {
        using var migrated = await MigratedDatabase.OpenAsync("postgres", _dir, postgres);
        // One connection, so every call below runs on the same server session and its prepared statements.
        using var db = SqlDatabase.ForPostgres(new NpgsqlConnectionStringBuilder(migrated.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO server_nodes (name, version, started_at, heartbeat_at) VALUES ('a', '1', 1, 1)", transaction: tx));
        var nodes = new NodeStore(db);
        const string star = "SELECT * FROM server_nodes WHERE name = @name";
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await nodes.FindAsync("a"));
            await db.ReadAsync(c => c.QuerySingleAsync<ServerNodeRow>(star, new { name = "a" }));
        }
        var prepared = await db.ReadAsync(c => c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM server_nodes WHERE name = $1%'"));
        Assert.Equal(2, prepared); // both statements are prepared on the server

        // Another node's migration, on its own connection.
        await using (var other = new NpgsqlConnection(migrated.ConnectionString))
        {
            await other.OpenAsync();
            await other.ExecuteAsync("ALTER TABLE server_nodes ADD COLUMN added_by_a_later_version TEXT NULL");
        }

        Assert.Equal("a", (await nodes.FindAsync("a"))!.Name);
        var failed = await Assert.ThrowsAsync<PostgresException>(() =>
            db.ReadAsync(c => c.QuerySingleAsync<ServerNodeRow>(star, new { name = "a" })));
        Assert.Equal(PostgresErrorCodes.FeatureNotSupported, failed.SqlState); // why * is not used
    }

    /// <summary>Every statement of the server names its columns: no <c>SELECT * FROM table</c>, no <c>RETURNING *</c>.</summary>
    [Fact]
    public void TheServersSql_NamesItsColumns()
    {
        var source = Path.Combine(RepositoryLayout.Root, "src", "Slipway.Server");
        // SELECT * over a subquery with named columns is fine: "SELECT * FROM (". A table's star in a column list is not
        // ("SELECT r.*, p.name FROM ..."), wherever it stands.
        var star = new Regex(@"SELECT\s+(\w+\.)?\*\s+FROM\s+(?!\()|RETURNING\s+\*|\b[a-z]\w*\.\*[\s,]", RegexOptions.IgnoreCase);
        var offenders = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, line, i)))
            .Where(x => star.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(source, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "SQL with *:\n" + string.Join("\n", offenders));
        Assert.Matches(star, "SELECT * FROM jobs"); // the pattern finds what it must
        Assert.Matches(star, "SELECT r.*, p.name FROM runs r");
        Assert.DoesNotMatch(star, "SELECT * FROM (SELECT id FROM jobs) q");
    }
}
