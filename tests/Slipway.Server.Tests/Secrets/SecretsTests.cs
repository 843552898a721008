using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.Secrets;

/// <summary>Project variables and secrets end to end: a real server, git repository, agent and bash jobs.</summary>
public sealed class SecretsTests
{
    // Characters that base64, URL and JSON encoding all change; 30 bytes so `base64` does not wrap lines.
    private const string Secret = "tok3n+Sl1pway/Secret=value&x y";

    private static readonly string Pem = FakePem();

    private const string LeakyPipeline = """
        env: { OVERRIDDEN: from-file }
        stages:
          - name: s
            jobs:
              - name: leaky
                secrets: [S, PEM]
                run: |
                  urlencode() { local s="$1" out="" c i; for ((i = 0; i < ${#s}; i++)); do c="${s:i:1}"; case "$c" in [A-Za-z0-9._~-]) out+="$c" ;; *) out+=$(printf '%%%02X' "'$c") ;; esac; done; printf '%s\n' "$out"; }
                  echo "raw: $S"
                  printf 'split: %s' "${S:0:5}"; sleep 0.3; printf '%s\n' "${S:5}"
                  echo "b64: $(printf '%s' "$S" | base64)"
                  echo "b64+1: $(printf 'x%s' "$S" | base64 -w0)"
                  echo "b64+2: $(printf 'xy%s' "$S" | base64 -w0)"
                  echo "url: $(urlencode "$S")"
                  echo "pem:"
                  echo "$PEM"
                  echo "plain: $GREETING $OVERRIDDEN"
              - name: bystander
                run: |
                  echo "S=${S:-absent} PEM=${PEM:-absent}"
                  echo "plain: $GREETING"
        """;

    /// <summary>What the leaky job would print if nothing were masked, and must therefore never appear.</summary>
    private static IEnumerable<string> ForbiddenForms()
    {
        yield return Secret;
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret));
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes("x" + Secret))[4..^4];
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes("xy" + Secret))[4..^4];
        yield return Uri.EscapeDataString(Secret);
        yield return Secret[5..];
        foreach (var line in Pem.Split('\n', StringSplitOptions.RemoveEmptyEntries)) yield return line;
    }

    private static async Task<string> ReadAllAsync(LogStore logs, long jobId)
    {
        await using var stream = await logs.OpenReadAsync(jobId, CancellationToken.None);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    private static void AssertMasked(string log, string where)
    {
        foreach (var form in ForbiddenForms())
            Assert.False(log.Contains(form, StringComparison.Ordinal), $"{where} contains the secret form '{form}':\n{log}");
        foreach (var label in new[] { "raw: ***", "split: ***", "b64: ***", "url: ***", "pem:\n***" })
            Assert.Contains(label, log);
        Assert.Matches(@"b64\+1: \S*\*\*\*", log);
        Assert.Matches(@"b64\+2: \S*\*\*\*", log);
    }

    [Fact]
    public async Task SecretPrintedInEveryEncoding_IsMaskedInStoredLiveAndExportedLogs_AndOnlyItsJobGetsIt()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(LeakyPipeline);
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetVariableAsync("shop", "S", Secret, secret: true);
        await server.Client.SetVariableAsync("shop", "PEM", Pem, secret: true);
        await server.Client.SetVariableAsync("shop", "GREETING", "hello-plain", secret: false);
        await server.Client.SetVariableAsync("shop", "OVERRIDDEN", "from-project", secret: false);

        var id = (await server.Client.StartRunAsync("shop", "main", null)).Id;
        using var followTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var live = Task.Run(async () =>
        {
            var text = new StringBuilder();
            await foreach (var page in server.Client.FollowLogAsync(id, "leaky", 0, followTimeout.Token)) text.Append(page.Text);
            return text.ToString();
        });
        var run = await server.WaitForRunAsync(id);

        Assert.Equal("succeeded", run.Status);
        var stored = await server.LogAsync(id, "leaky");
        AssertMasked(stored, "the stored log");
        Assert.Contains("plain: hello-plain from-file", stored); // plain variables reach jobs; the file's env wins
        AssertMasked(await live, "the live log stream");
        AssertMasked(await server.Client.Http.GetStringAsync($"api/v1/runs/{id}/jobs/leaky/log/raw"), "the exported log");
        // At rest: first the database's chunks, then (archived) the blob store's file.
        var logs = server.Service<LogStore>();
        var jobId = run.Stages[0].Jobs.Single(j => j.Name == "leaky").Id;
        AssertMasked(await ReadAllAsync(logs, jobId), "the stored chunks");
        await logs.ArchiveAsync(jobId, CancellationToken.None);
        var archived = await logs.StateAsync(jobId);
        Assert.Equal(archived.Length, archived.ArchivedLength);
        AssertMasked(await File.ReadAllTextAsync(Path.Combine(server.Options.FullDataDirectory, archived.ArchiveKey!)), "the archived log file");

        var bystander = await server.LogAsync(id, "bystander");
        Assert.Contains("S=absent PEM=absent", bystander);
        Assert.Contains("plain: hello-plain", bystander);
    }

    [Fact]
    public async Task Api_NeverReturnsASecretValue()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var created = await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Secret, secret: true);
        var plain = await server.Client.SetVariableAsync("shop", "REGION", "eu-west", secret: false);

        Assert.True(created.Secret);
        Assert.Null(created.Value);
        Assert.Equal("admin", created.UpdatedBy);
        Assert.Equal("eu-west", plain.Value);
        var listed = await server.Client.ListVariablesAsync("shop");
        Assert.Equal(["DEPLOY_KEY", "REGION"], listed.Select(v => v.Name));
        Assert.Null(listed[0].Value);
        Assert.Equal("eu-west", listed[1].Value);
        var rawList = await server.Client.Http.GetStringAsync("api/v1/projects/shop/variables");
        Assert.DoesNotContain("Sl1pway", rawList);
        using var put = await server.Client.Http.PutAsJsonAsync("api/v1/projects/shop/variables/DEPLOY_KEY", new { value = Secret + "2", secret = true });
        Assert.DoesNotContain("Sl1pway", await put.Content.ReadAsStringAsync());

        // A secret is never made plain by setting a value: a rotation that forgot the flag would show it to every reader.
        var downgrade = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetVariableAsync("shop", "DEPLOY_KEY", "now-plain", secret: false));
        Assert.Equal(HttpStatusCode.Conflict, downgrade.Status);
        Assert.Contains("'DEPLOY_KEY' is a secret: set its new value as a secret, or delete it first", downgrade.Message);
        Assert.True((await server.Client.ListVariablesAsync("shop")).Single(v => v.Name == "DEPLOY_KEY").Secret);
        await server.Client.SetVariableAsync("shop", "REGION", Secret, secret: true); // plain to secret is fine

        await server.Client.DeleteVariableAsync("shop", "REGION");
        Assert.Single(await server.Client.ListVariablesAsync("shop"));
        var again = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.DeleteVariableAsync("shop", "REGION"));
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
    }

    [Theory]
    [InlineData("KEY", "abc", true, "shorter than 4 characters")]
    [InlineData("KEY", "    ", true, "only whitespace")]
    [InlineData("bad-name", "value", false, "invalid variable name 'bad-name'")]
    [InlineData("9KEY", "value", false, "invalid variable name")]
    [InlineData("SLIPWAY_TOKEN", "value", false, "reserved prefix 'SLIPWAY_'")]
    [InlineData("PATH", "/tmp", false, "is reserved")]
    [InlineData("LD_PRELOAD", "/tmp/x.so", false, "is reserved")]
    public async Task BadVariable_IsRefusedWith400(string name, string value, bool secret, string message)
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var error = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetVariableAsync("shop", name, value, secret));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Contains(message, error.Message);
        Assert.Empty(await server.Client.ListVariablesAsync("shop"));
    }

    [Fact]
    public async Task ValueOver64KiB_IsRefused_AndUnknownProjectIs404()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");

        var big = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetVariableAsync("shop", "BIG", new string('x', 64 * 1024 + 1), false));
        Assert.Equal(HttpStatusCode.BadRequest, big.Status);
        await server.Client.SetVariableAsync("shop", "BIG", new string('x', 64 * 1024), false);
        var missing = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.SetVariableAsync("nope", "KEY", "value", false));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task Secret_IsEncryptedAtRest()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Secret, secret: true);

        var file = Path.Combine(server.Options.FullDataDirectory, "slipway.db");
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        var row = await connection.QuerySingleAsync<(string? Value, long Secret, string? Ciphertext)>(
            "SELECT value, secret, ciphertext FROM project_variables WHERE name = 'DEPLOY_KEY'");

        Assert.Null(row.Value);
        Assert.Equal(1, row.Secret);
        Assert.NotNull(row.Ciphertext);
        Assert.DoesNotContain("Sl1pway", row.Ciphertext);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret))[..12], row.Ciphertext);
        var keyRing = Path.Combine(server.Options.FullDataDirectory, "keys");
        Assert.NotEmpty(Directory.GetFiles(keyRing, "key-*.xml"));
        // The key ring is stored unencrypted: only the server's user may read it.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keyRing));
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.DoesNotContain("Sl1pway", Encoding.Latin1.GetString(bytes));
    }

    [Fact]
    public async Task JobListingAMissingSecret_FailsWithoutRunning_NamingIt()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo this-must-not-run", "        secrets: [MISSING_KEY]\n        retry: 2"));
        var id = await server.CreateProjectAsync("shop", repo.Path);

        var run = await server.WaitForRunAsync(id);

        Assert.Equal("failed", run.Status);
        var job = run.Stages[0].Jobs[0];
        Assert.Equal("failed", job.Status);
        Assert.Equal(1, job.Attempt); // not retried: another attempt would fail the same way
        Assert.Contains("secret 'MISSING_KEY' is not defined in project 'shop'", job.FailureReason);
        var log = await server.LogAsync(id, "j");
        Assert.Contains("MISSING_KEY", log);
        Assert.DoesNotContain("this-must-not-run", log);
    }

    [Fact]
    public async Task PlainVariableListedAsSecret_FailsTheJob()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo ran", "        secrets: [REGION]"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetVariableAsync("shop", "REGION", "eu-west", secret: false);

        var run = await server.WaitForRunAsync((await server.Client.StartRunAsync("shop", "main", null)).Id);

        Assert.Equal("failed", run.Status);
        Assert.Contains("'REGION' is a plain variable", run.Stages[0].Jobs[0].FailureReason);
    }

    [Fact]
    public async Task ReadOnlyUser_CanListButNotSetOrDelete()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.SetVariableAsync("shop", "DEPLOY_KEY", Secret, secret: true);
        var reader = await CreateReadOnlyUserAsync(server);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", reader);

        using var list = await http.GetAsync("/api/v1/projects/shop/variables");
        using var put = await http.PutAsJsonAsync("/api/v1/projects/shop/variables/DEPLOY_KEY", new { value = "stolen-value", secret = false });
        using var delete = await http.DeleteAsync("/api/v1/projects/shop/variables/DEPLOY_KEY");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain("Sl1pway", await list.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.True(Assert.Single(await server.Client.ListVariablesAsync("shop")).Secret);
    }

    private static async Task<string> CreateReadOnlyUserAsync(SlipwayTestServer server)
    {
        var user = (await server.Service<UserStore>().CreateAsync("reader", null, null, null, 0))!;
        await server.Service<GrantStore>().AddAsync(user.Id, "viewer", null, null, "test", 0);
        var token = Tokens.New(Tokens.UserPrefix);
        await server.Service<CredentialStore>().CreateTokenAsync(user.Id, "ro", Tokens.Hash(token), null, null, 0);
        return token;
    }

    private static string FakePem()
    {
        var random = new Random(7);
        var body = new byte[48 * 4];
        random.NextBytes(body);
        var base64 = Convert.ToBase64String(body);
        var lines = Enumerable.Range(0, base64.Length / 64).Select(i => base64.Substring(i * 64, 64));
        return "-----BEGIN PRIVATE KEY-----\n" + string.Join("\n", lines) + "\n-----END PRIVATE KEY-----\n";
    }
}
