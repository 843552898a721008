using Slipway.Server.Storage;
using Slipway.Testing;

namespace Slipway.Server.Tests.Secrets;

/// <summary>VariableStore and the 0003 migration against a real SQLite file and a real PostgreSQL server.</summary>
[Collection("postgres")]
public sealed class VariableStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    private Task<Database> OpenAsync(string dialect) => MigratedDatabase.OpenAsync(dialect, _dir, postgres);

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

    [Fact]
    public void JobSpec_WrittenBeforeSecretsExisted_ReadsWithoutSecrets()
    {
        var spec = JobSpec.FromJson("""{"script":"make","env":{"A":"1"},"artifacts":[],"reports":[],"timeoutSeconds":60}""");
        Assert.Null(spec.Secrets);
        Assert.Equal(["K"], JobSpec.FromJson(new JobSpec("make", new Dictionary<string, string>(), [], [], 60, ["K"]).ToJson()).Secrets);
    }

    public void Dispose() => _dir.Dispose();
}
