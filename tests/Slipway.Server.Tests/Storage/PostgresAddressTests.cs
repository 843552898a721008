using Npgsql;

namespace Slipway.Server.Tests.Storage;

/// <summary>The database given as a postgres:// URL, as hosting providers hand it out, or as Npgsql's own form.</summary>
public sealed class PostgresAddressTests
{
    [Fact]
    public void AUrl_BecomesTheSameSettings_WithEscapesUndone()
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresAddress.ToConnectionString("postgres://sli%40pway:p%3Ass%2Fw@db.internal:6543/slip_way?sslmode=require&Maximum%20Pool%20Size=30"));
        Assert.Equal(("db.internal", 6543, "slip_way", "sli@pway", "p:ss/w"), (built.Host, built.Port, built.Database, built.Username, built.Password));
        Assert.Equal(SslMode.Require, built.SslMode);
        Assert.Equal(30, built.MaxPoolSize);
    }

    [Theory]
    [InlineData("postgresql://u@127.0.0.1/x", "127.0.0.1", 5432, "x", "u")]
    [InlineData("postgres://[::1]:5433/db", "::1", 5433, "db", null)]
    public void DefaultsAndAddresses(string url, string host, int port, string database, string? user)
    {
        var built = new NpgsqlConnectionStringBuilder(PostgresAddress.ToConnectionString(url));
        Assert.Equal((host, port, database, user), (built.Host, built.Port, built.Database, built.Username));
    }

    [Fact]
    public void NpgsqlsOwnForm_IsLeftAsItIs()
    {
        const string classic = "Host=db;Username=slipway;Password=x;Database=slipway";
        Assert.Equal(classic, PostgresAddress.ToConnectionString(classic));
    }

    [Theory]
    [InlineData("postgres:///nohost", "must look like")]
    [InlineData("postgres://h/db?colour=blue", "'colour' is not a PostgreSQL connection setting")]
    public void ABadUrl_IsRefusedSayingWhy(string url, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => PostgresAddress.ToConnectionString(url)).Message);

    [Fact]
    public void PoolSettings_DefaultToTwentyConnectionsWithoutReset()
    {
        var built = new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db;Username=slipway;Database=slipway"));
        Assert.Equal((SqlDatabase.DefaultMaxPoolSize, true), (built.MaxPoolSize, built.NoResetOnClose));
        Assert.Equal(20, SqlDatabase.DefaultMaxPoolSize);
    }

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=7")]
    [InlineData("Host=db;MaxPoolSize=7")]
    [InlineData("Host=db;maxpoolsize=7")]
    public void PoolSettings_KeepWhatTheOperatorSet(string connectionString) =>
        Assert.Equal(7, new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings(connectionString)).MaxPoolSize);

    [Fact]
    public void PoolSettings_NeverGoBelowTheOperatorsMinimum() =>
        Assert.Equal(25, new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db;Minimum Pool Size=25")).MaxPoolSize);

    [Fact]
    public void PoolSettings_AreNotFooledByAValueThatNamesAKeyword() =>
        Assert.Equal(SqlDatabase.DefaultMaxPoolSize,
            new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db;Application Name='MaxPoolSize=7';Password='Maximum Pool Size'")).MaxPoolSize);

    [Fact]
    public void TheDialectOfAConnection_IsReadWithoutLoadingTheOtherProvider()
    {
        using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        using var postgres = new NpgsqlConnection("Host=db");
        Assert.Equal((SqlDialect.Sqlite, SqlDialect.Postgres), (SqlDialects.Of(sqlite), SqlDialects.Of(postgres)));
    }

    [Fact]
    public void PoolSettings_KeepAResetTheOperatorAskedFor() =>
        Assert.False(new NpgsqlConnectionStringBuilder(SqlDatabase.PoolSettings("Host=db;No Reset On Close=false")).NoResetOnClose);
}
