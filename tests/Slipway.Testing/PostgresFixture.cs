using Xunit;

namespace Slipway.Testing;

/// <summary>
/// xunit collection fixture: one PostgreSQL server per test collection, one database per test.
/// Use with <c>[CollectionDefinition("postgres")] public class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;</c>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgresFixture is not initialized");

    public Task<string> CreateDatabaseAsync() => Server.CreateDatabaseAsync();

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}
