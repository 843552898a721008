using Slipway.Testing;

namespace Slipway.Server.Tests.Secrets;

/// <summary>VariableStore, ReleaseSettingsStore and the 0003 and 0012 migrations against a real SQLite file and a real PostgreSQL server.</summary>
[Collection("postgres")]
public sealed class VariableStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private Task<SqlDatabase> OpenAsync(string dialect) => MigratedDatabase.OpenAsync(dialect, _dir, postgres);

    [Theory, MemberData(nameof(Dialects))]
    public async Task SetReplaceListDelete_WorkOnBothDatabases(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "hook", new Dictionary<string, string>(), 1000))!;
        var store = new VariableStore(db);

        var plain = await store.SetAsync(project.Id, "REGION", "eu-west", null, "alice", 2000);
        var secret = await store.SetAsync(project.Id, "KEY", null, "CfDJ8-cipher", "alice", 2000);
        var changed = await store.SetAsync(project.Id, "REGION", null, "CfDJ8-other", "bob", 3000); // plain becomes secret

        Assert.False(plain.IsSecret);
        Assert.True(secret.IsSecret);
        Assert.Null(secret.Value);
        Assert.True(changed.IsSecret);
        Assert.Null(changed.Value);
        Assert.Equal(2000, changed.CreatedAt);
        Assert.Equal(3000, changed.UpdatedAt);
        Assert.Equal("bob", changed.UpdatedBy);
        Assert.Equal(["KEY", "REGION"], (await store.ListAsync(project.Id)).Select(v => v.Name));
        Assert.True(await store.DeleteAsync(project.Id, "KEY"));
        Assert.False(await store.DeleteAsync(project.Id, "KEY"));
        Assert.Single(await store.ListAsync(project.Id));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(project.Id, "X", "v", "c", "alice", 1));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ProtectedFlagAndReleaseSettings_RoundTripOnBothDatabases(string dialect)
    {
        using var db = await OpenAsync(dialect);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "hook", new Dictionary<string, string>(), 1000))!;
        var store = new VariableStore(db);
        var settings = new ReleaseSettingsStore(db);

        var secret = await store.SetAsync(project.Id, "KEY", null, "CfDJ8-cipher", "alice", 2000);
        var plain = await store.SetAsync(project.Id, "REGION", "eu-west", null, "alice", 2000, protectedRequested: true);
        var kept = await store.SetAsync(project.Id, "REGION", "eu-north", null, "bob", 3000);
        var defaults = await settings.GetAsync(project);
        await settings.SetAsync(project.Id, ["main", "release/2"], ["v*", "rel-*"], "carol", 4000);
        var set = await settings.GetAsync(project);

        Assert.Equal((true, true, true), (secret.IsProtected, plain.IsProtected, kept.IsProtected));
        Assert.True(defaults.IsDefault);
        Assert.Equal(["main"], defaults.ReleaseBranchList);
        Assert.Equal(["v*"], defaults.ProtectedTags);
        Assert.Equal(["main", "release/2"], set.ReleaseBranchList);
        Assert.Equal(["v*", "rel-*"], set.ProtectedTags);
        Assert.Equal((false, "carol", (long?)4000), (set.IsDefault, set.UpdatedBy, set.UpdatedAt));
        Assert.False(set.Releases("release/2")); // not protected: never a release branch, whatever the settings say
    }

    /// <summary>Migration 0012 on a database that has secrets from before it: they become protected (fail closed), plain variables do not.</summary>
    [Theory, MemberData(nameof(Dialects))]
    public async Task Migration0012_ProtectsTheSecretsThatExistedBeforeIt(string dialect)
    {
        using var db = dialect == "sqlite"
            ? SqlDatabase.ForSqliteFile(Path.Combine(_dir.Path, Guid.NewGuid().ToString("N") + ".db"))
            : SqlDatabase.ForPostgres(await postgres.CreateDatabaseAsync());
        var folder = dialect == "sqlite" ? ".Storage.Migrations.sqlite." : ".Storage.Migrations.postgres.";
        var before = (dialect == "sqlite" ? DbUp.DeployChanges.To.SqliteDatabase(db.ConnectionString) : DbUp.DeployChanges.To.PostgresqlDatabase(db.ConnectionString))
            .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly, n => n.Contains(folder, StringComparison.Ordinal) && string.CompareOrdinal(n[(n.IndexOf(folder) + folder.Length)..], "0012") < 0)
            .WithTransactionPerScript().WithVariablesDisabled().LogToNowhere().Build().PerformUpgrade();
        Assert.True(before.Successful, before.Error?.Message);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "hook", new Dictionary<string, string>(), 1000))!;
        await db.WriteAsync((c, tx) => Dapper.SqlMapper.ExecuteAsync(c,
            "INSERT INTO project_variables (project_id, name, value, secret, ciphertext, created_at, updated_at, updated_by) VALUES " +
            "(@id, 'KEY', NULL, 1, 'CfDJ8-cipher', 1, 1, 'a'), (@id, 'REGION', 'eu-west', 0, NULL, 1, 1, 'a')", new { id = project.Id }, tx));

        Migrator.Upgrade(db);

        var flags = (await new VariableStore(db).ListAsync(project.Id)).ToDictionary(v => v.Name, v => v.IsProtected);
        Assert.Equal(new Dictionary<string, bool> { ["KEY"] = true, ["REGION"] = false }, flags);
    }

    [Fact]
    public void JobSpec_WrittenBeforeSecretsExisted_ReadsWithoutSecrets()
    {
        var spec = JobSpec.FromJson("""{"script":"make","env":{"A":"1"},"artifacts":[],"reports":[],"timeoutSeconds":60}""");
        Assert.Null(spec.Secrets);
        Assert.Equal(["K"], JobSpec.FromJson(new JobSpec("make", new Dictionary<string, string>(), [], [], 60, ["K"]).ToJson()).Secrets);
    }

    public void Dispose() => _dir.Dispose();
}
