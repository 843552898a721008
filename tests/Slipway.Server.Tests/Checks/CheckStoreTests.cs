using Slipway.Core.Checks;
using Slipway.Core.Environments;
using Slipway.Testing;

namespace Slipway.Server.Tests.Checks;

/// <summary>Live checks' results in the database, on a real SQLite file and a real PostgreSQL.</summary>
[Collection("postgres")]
public sealed class CheckStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    [Theory, MemberData(nameof(Dialects))]
    public async Task LatestResults_AreTheNewestOfEachCheckAsked_NewestFirst_InOneQuery(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var project = (await new ProjectStore(db).CreateAsync("shop", "/repo", "main", "hook", new Dictionary<string, string>(), 1000))!;
        var environments = new EnvironmentStore(db);
        foreach (var (name, position) in new[] { ("staging", 0), ("production", 1) })
            Assert.True(await environments.SaveAsync(project.Id, new EnvironmentSettings(name, position, false, "deploy", [], 0, null, false, QueuePolicy.OldestFirst),
                create: true, "ann", 1000));
        var production = (await environments.FindAsync(project.Id, "production"))!.Id;
        var staging = (await environments.FindAsync(project.Id, "staging"))!.Id;
        var store = new CheckStore(db);
        long Add(long environment) => store.AddAsync(environment, "http", "http://127.0.0.1:9/health", 200, null, TimeSpan.FromSeconds(10),
            new CheckSchedule(TimeSpan.FromMinutes(1), null, null), TimeSpan.FromMinutes(15), "ann", 1000).GetAwaiter().GetResult();
        var (busy, once, never, elsewhere) = (Add(production), Add(production), Add(production), Add(staging));
        for (var i = 1; i <= 5; i++) await store.RecordAsync(busy, new CheckOutcome(i % 2 == 0, 200, i, $"run {i}"), null, 1000 + i);
        await store.RecordAsync(once, new CheckOutcome(false, 503, 7, "status 503, expected 200"), null, 2000);
        await store.RecordAsync(elsewhere, new CheckOutcome(true, 200, 1, "staging"), null, 3000);

        var latest = await store.LatestResultsAsync([busy, once, never], 3);

        Assert.Equal([busy, once], latest.Keys.Order());
        Assert.Equal(["run 5", "run 4", "run 3"], latest[busy].Select(r => r.Detail));
        Assert.Equal([false, true, false], latest[busy].Select(r => r.Ok));
        Assert.Equal(("status 503, expected 200", 503), (Assert.Single(latest[once]).Detail, latest[once][0].StatusCode));
        Assert.False(latest.ContainsKey(never));
        Assert.Equal(["run 5"], (await store.LatestResultsAsync([busy, elsewhere], 1))[busy].Select(r => r.Detail));
        Assert.Equal(["staging"], (await store.LatestResultsAsync([busy, elsewhere], 1))[elsewhere].Select(r => r.Detail));
        Assert.Empty(await store.LatestResultsAsync([], 5));
    }

    public void Dispose() => _dir.Dispose();
}
