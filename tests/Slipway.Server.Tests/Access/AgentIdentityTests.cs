using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>
/// An agent's name is bound to its credential (issue 11, finding 6): a registration never takes over a name in use (only
/// the embedded agent's own, name-bound token takes over "embedded"), an admin removes an agent to free its name, refused
/// heartbeats are folded in the audit log, and a refused agent backs off with one clear log line.
/// </summary>
public sealed class AgentIdentityTests
{
    private static StringContent Registration(string name, string pool = "build") =>
        Body($$"""{"protocolVersion":{{ProtocolVersion.Current}},"name":"{{name}}","pool":"{{pool}}","labels":[],"slots":1}""");

    /// <summary>Registers an agent over HTTP with a fresh token of the pool; returns the answer's status and body.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> RegisterAsync(SlipwayTestServer server, string name, string pool = "build")
    {
        var token = await server.Client.CreateAgentTokenAsync(pool, preApproved: true);
        using var http = Http(server, token.Token);
        var answer = await http.PostAsync("/api/v1/agent/register", Registration(name, pool));
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
    }

    private static string Credential(string body) => JsonDocument.Parse(body).RootElement.GetProperty("credential").GetString()!;

    private static Task<HttpResponseMessage> PollAsync(HttpClient agent) => agent.PostAsync("/api/v1/agent/poll", Body("""{"freeSlots":1,"waitSeconds":0}"""));

    [Fact]
    public async Task RegisteringATakenName_IsRefused_AndTheEmbeddedAgentKeepsWorking_AcrossARestart()
    {
        using var data = new TempDirectory();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo built"));
        await using (var server = await SlipwayTestServer.StartAsync(dataDirectory: data.Path))
        {
            var (status, body) = await RegisterAsync(server, "worker", "other");
            Assert.Equal(HttpStatusCode.OK, status);
            var before = (await server.Client.ListAgentsAsync()).Single(a => a.Name == "worker");

            var again = await RegisterAsync(server, "worker", "other");
            var embedded = await RegisterAsync(server, "embedded");

            Assert.Equal(HttpStatusCode.Conflict, again.Status);
            Assert.Contains("an agent named 'worker' is already registered", again.Body);
            Assert.Contains("slipway agent remove worker", again.Body);
            Assert.Equal(HttpStatusCode.Conflict, embedded.Status);
            Assert.Contains("reserved for the servers' embedded agents", embedded.Body);
            var after = (await server.Client.ListAgentsAsync()).Single(a => a.Name == "worker");
            Assert.Equal((before.Id, before.Pool, before.Status), (after.Id, after.Pool, after.Status));
            // The first credential still works; the refusals are audited.
            using (var worker = Http(server, Credential(body)))
                Assert.Equal(HttpStatusCode.NoContent, (await PollAsync(worker)).StatusCode);
            Assert.Equal(2, (await AuditAsync(server, "action=agent.register&outcome=failed")).Count);
            Assert.Equal("succeeded", (await server.CreateProjectAndWaitAsync("p", repo.Path)).Status);
            Assert.Equal("embedded", (await server.Client.GetRunAsync((await server.Client.ListRunsAsync("p")).Single().Id)).Stages[0].Jobs[0].Agent);
        }

        // The embedded agent takes its own name over at every start, with its name-bound one-time token.
        await using var restarted = await SlipwayTestServer.StartAsync(dataDirectory: data.Path);
        var run = await restarted.Client.StartRunAsync("p", "main", null);
        var done = await restarted.WaitForRunAsync(run.Id);
        Assert.Equal(("succeeded", "embedded"), (done.Status, done.Stages[0].Jobs[0].Agent));
        Assert.Single(await restarted.Client.ListAgentsAsync(), a => a.Name == "embedded");
    }

    [Fact]
    public async Task ATokenBoundToAName_RegistersOnlyThatName()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var token = Tokens.New(Tokens.RegistrationPrefix);
        await server.Service<AgentStore>().CreateRegistrationTokenAsync(Tokens.Hash(token), "build", true, 0, agentName: "bound");
        using var http = Http(server, token);

        var other = await http.PostAsync("/api/v1/agent/register", Registration("someone-else"));
        var own = await http.PostAsync("/api/v1/agent/register", Registration("bound"));
        var takeOver = await http.PostAsync("/api/v1/agent/register", Registration("bound"));

        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Contains("registers the agent 'bound' only", await other.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.OK, takeOver.StatusCode); // its own name only: how the embedded agent re-registers
        using var stale = Http(server, Credential(await own.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await PollAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task RemovingAnAgent_IsRefusedWhileItRunsAJob_ThenFreesItsName_AndEndsItsCredential()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo remote", "        pool: remote"));
        var runId = await server.CreateProjectAsync("p", repo.Path);
        var (_, body) = await RegisterAsync(server, "worker", "remote");
        using var worker = Http(server, Credential(body));
        var lease = JsonDocument.Parse(await (await Expect(await PollAsync(worker), HttpStatusCode.OK)).Content.ReadAsStringAsync()).RootElement;
        var developer = new Slipway.Client.SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev", "developer"));

        var busy = await CliAsync(server, "agent", "remove", "worker");
        Assert.Equal(1, busy.Exit);
        Assert.Contains("agent 'worker' is running 1 job(s): disable it first (slipway agent disable worker)", busy.Err);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => developer.RemoveAgentAsync("worker"))).Status);
        using (var finish = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/agent/jobs/{lease.GetProperty("jobId").GetInt64()}/finish"))
        {
            finish.Headers.Add("X-Slipway-Lease", lease.GetProperty("leaseId").GetString());
            finish.Content = Body(new { leaseId = lease.GetProperty("leaseId").GetString(), exitCode = 0, outcome = "succeeded" });
            await Expect(await worker.SendAsync(finish), HttpStatusCode.NoContent);
        }

        var removed = await CliAsync(server, "agent", "remove", "worker");
        var unknown = await CliAsync(server, "agent", "remove", "worker");

        Assert.True(removed.Exit == 0, removed.Err);
        Assert.Equal((1, "error: no agent named 'worker'\n"), (unknown.Exit, unknown.Err));
        var refused = await PollAsync(worker);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("the agent credential is not known to this server", await refused.Content.ReadAsStringAsync());
        Assert.DoesNotContain(await server.Client.ListAgentsAsync(), a => a.Name.StartsWith("worker"));
        // The job still names the agent that ran it.
        Assert.StartsWith("worker (removed #", (await server.Client.GetRunAsync(runId)).Stages[0].Jobs[0].Agent);
        Assert.Contains(await AuditAsync(server, "action=agent.approve&outcome=succeeded"), e => e.Target == "agent:worker" && e.Detail!.Contains("removed"));
        Assert.Contains(await AuditAsync(server, "action=agent.approve&outcome=failed"), e => e.Target == "agent:worker" && e.Detail!.Contains("running 1 job"));
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(server, "worker", "remote")).Status); // the name is free again
        developer.Dispose();
    }

    /// <summary>
    /// A registration token expires: after 7 days unless asked otherwise (0: never; beyond 365 days refused). An expired one
    /// admits no agent, the refusal names when it expired, and it is listed among those no longer in force.
    /// </summary>
    [Fact]
    public async Task ARegistrationToken_ExpiresAfterSevenDaysByDefault_AndAnExpiredOneIsRefused_SayingWhen()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var before = DateTimeOffset.UtcNow;
        var normal = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        Assert.InRange(normal.ExpiresAt!.Value, before.AddDays(7).AddSeconds(-5), DateTimeOffset.UtcNow.AddDays(7).AddSeconds(5));
        var forever = await server.Client.CreateAgentTokenAsync("build", preApproved: false, expiresInDays: 0);
        Assert.Null(forever.ExpiresAt);
        var tooLong = await Assert.ThrowsAsync<Slipway.Client.SlipwayApiException>(() => server.Client.CreateAgentTokenAsync("build", false, expiresInDays: 366));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        Assert.Contains("1 to 365 days, or never (0)", tooLong.Message);
        Assert.Contains(await AuditAsync(server, "action=agent.token.create"), e => e.Detail!.Contains("pre-approved, expires in 7 days;"));

        // One that expired a minute ago, planted in the store: a test cannot wait a week.
        var secret = Slipway.Server.Access.Tokens.New(Slipway.Server.Access.Tokens.RegistrationPrefix);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var expiredId = await server.Service<Slipway.Server.Agents.AgentStore>().CreateRegistrationTokenAsync(
            Slipway.Server.Access.Tokens.Hash(secret), "build", true, now - 120_000, expiresAt: now - 60_000);
        using var late = Http(server, secret);
        var answer = await late.PostAsync("/api/v1/agent/register", Registration("late"));
        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Contains($"the registration token expired at {DateTimeOffset.FromUnixTimeMilliseconds(now - 60_000).UtcDateTime:yyyy-MM-dd HH:mm} UTC",
            await answer.Content.ReadAsStringAsync());
        Assert.DoesNotContain(await server.Client.ListAgentsAsync(), a => a.Name == "late");
        // The fresh one still admits its agent.
        using (var inTime = Http(server, normal.Token))
            Assert.Equal(HttpStatusCode.OK, (await inTime.PostAsync("/api/v1/agent/register", Registration("in-time"))).StatusCode);

        var listed = await server.Client.ListAgentTokensAsync();
        Assert.Equal(normal.ExpiresAt, listed.Single(t => t.Id == normal.Id).ExpiresAt);
        Assert.Null(listed.Single(t => t.Id == forever.Id).ExpiresAt);
        var expired = listed.Single(t => t.Id == expiredId);
        Assert.Equal((now - 60_000, (DateTimeOffset?)null), (expired.ExpiresAt!.Value.ToUnixTimeMilliseconds(), expired.RevokedAt));
        // Whether it expired is the server's word, not the client's clock; revoked is not also "expired".
        Assert.Equal((true, false, false), (expired.Expired, listed.Single(t => t.Id == normal.Id).Expired, listed.Single(t => t.Id == forever.Id).Expired));
        using var browser = new AccessTestKit.Browser(server);
        await browser.SignInWithTokenAsync(SlipwayTestServer.AdminToken);
        var agentsPage = await browser.Http.GetStringAsync("/agents");
        Assert.Contains($"data-token-id=\"{expiredId}\" data-revoked=\"false\" data-expired=\"true\"", agentsPage);
        Assert.Contains($"data-token-id=\"{normal.Id}\" data-revoked=\"false\" data-expired=\"false\"", agentsPage);
        var cli = await CliAsync(server, "agent", "token", "list");
        Assert.Contains(" (expired)", cli.Out.Split('\n').Single(l => l.TrimStart().StartsWith($"{expiredId} ")));
    }

    [Fact]
    public async Task ARefusedCredentialHammeringPoll_WritesOneEntryAWindow_WithTheCountFoldedIn_AndNoneLost()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.AuditDenialWindow = TimeSpan.FromSeconds(2); });
        var (_, body) = await RegisterAsync(server, "revoked");
        await server.Client.DisableAgentAsync("revoked");
        using var agent = Http(server, Credential(body));

        for (var i = 0; i < 40; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await PollAsync(agent)).StatusCode);
        var atOnce = await AuditAsync(server, "action=agent.heartbeat&outcome=denied");
        // The denials stop; the window closes by itself and its summary is written.
        var summary = await Eventually.ValueAsync(async () =>
            (await AuditAsync(server, "action=agent.heartbeat&outcome=denied")).FirstOrDefault(e => e.Detail!.Contains("more times since")), TimeSpan.FromSeconds(10),
            "the summary of the folded denials");
        await Task.Delay(TimeSpan.FromSeconds(3)); // a quiet window writes nothing more

        var entry = Assert.Single(atOnce);
        Assert.Equal(("anonymous", "denied"), (entry.ActorKind, entry.Outcome));
        Assert.Contains("agent 'revoked' is disabled", entry.Detail);
        Assert.Contains("denied 39 more times since", summary.Detail);
        Assert.Equal(2, (await AuditAsync(server, "action=agent.heartbeat&outcome=denied")).Count);
        Assert.True((await server.Client.VerifyAuditAsync()).Ok);
    }

    [Fact]
    public async Task ARemovedAgentProcess_BacksOff_WithOneClearLogLine_AndAFewAuditEntries()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.AuditDenialWindow = TimeSpan.FromSeconds(4); });
        using var work = new TempDirectory();
        var token = await server.Client.CreateAgentTokenAsync("build", preApproved: true);
        var output = new StringBuilder();
        using var process = StartAgent(["agent", "--server", server.Url, "--token", token.Token, "--work", work.Path, "--name", "gone", "--slots", "4"], output);
        try
        {
            await Eventually.ValueAsync(async () => (await server.Client.ListAgentsAsync()).FirstOrDefault(a => a.Name == "gone"), TimeSpan.FromSeconds(60), "the agent");
            await Task.Delay(500); // its slots are polling
            await server.Client.RemoveAgentAsync("gone");
            await Task.Delay(TimeSpan.FromSeconds(12));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        await Task.Delay(TimeSpan.FromSeconds(5)); // the last window closes

        var entries = await AuditAsync(server, "action=agent.heartbeat&outcome=denied");
        var denials = entries.Sum(e => 1 + FoldedCount(e.Detail!));
        string log;
        lock (output) log = output.ToString();
        // 4 slots retrying every 2 s would be refused 24 times in 12 s; backing off (2, 4, 8, ... s, shared) far fewer.
        Assert.InRange(denials, 1, 12);
        Assert.InRange(entries.Count, 1, 5);
        Assert.Equal(1, CountOf(log, "the server refuses this agent's credential"));
        Assert.Contains("slipway agent remove gone", log);
    }

    private static long FoldedCount(string detail)
    {
        var match = System.Text.RegularExpressions.Regex.Match(detail, @"denied (\d+) more times? since");
        return match.Success ? long.Parse(match.Groups[1].Value) : 0;
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "").Length) / part.Length;

    /// <summary>A real `slipway agent` process whose output (its log) is collected.</summary>
    private static Process StartAgent(IEnumerable<string> args, StringBuilder output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(RepositoryLayout.SlipwayDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("SLIPWAY_SERVER");
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task<(int Exit, string Out, string Err)> CliAsync(SlipwayTestServer server, params string[] args) =>
        EndToEnd.CliRunner.AdminAsync(server, null, args);
}
