using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>Users, grants, sign-in, tokens and the audit log through the real <c>slipway</c> program, as an admin and a developer type it.</summary>
public sealed class AccessCliTests
{
    private const string DevPassword = "tide-Harbour-97-quay";

    [Fact]
    public async Task AdminCreatesAndGrants_DeveloperSignsIn_ManagesTokens_DisableCutsOff_AuditVerifiesAndExports()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo hi"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateProjectAsync("other", repo.Path, "main");
        var admin = (string? stdin, string[] args) => CliRunner.AdminAsync(server, stdin, args);

        // The admin creates a user with a password from stdin and grants developer on one project.
        var create = await admin(DevPassword + "\n", ["user", "create", "dev", "--display-name", "Dev Eloper", "--email", "dev@example.test", "--password-stdin"]);
        Assert.True(create.Exit == 0, create.Err);
        Assert.Equal("created user dev", create.Out.Trim());
        var grant = await admin(null, ["user", "grant", "dev", "developer", "--project", "shop"]);
        Assert.True(grant.Exit == 0, grant.Err);
        Assert.Contains("granted developer on shop to dev", grant.Out);
        var shown = JsonSerializer.Deserialize<UserDto>((await admin(null, ["user", "show", "dev", "--json"])).Out, SlipwayClient.Json)!;
        Assert.True(shown.HasPassword);
        Assert.Equal(("developer", "shop"), (Assert.Single(shown.Grants).Role, shown.Grants[0].Project));
        var noPassword = await admin(null, ["user", "create", "later"]);
        Assert.Contains("created user later without a password", noPassword.Out);

        // Agent registration tokens: made, listed without their values, revoked (then refused at registration).
        var createdToken = await admin(null, ["agent", "token", "create", "--pool", "deploy"]);
        var agentToken = createdToken.Out.Trim();
        Assert.StartsWith("slpr_", agentToken);
        Assert.Matches(@"^registration token \d+ for pool deploy: admits agents until \d{4}-\d\d-\d\d \d\d:\d\d UTC$", createdToken.Err.Trim());
        Assert.Contains("never expires; revoke it when done",
            (await admin(null, ["agent", "token", "create", "--pool", "nodes", "--expires-in-days", "0"])).Err);
        var agentTokens = JsonSerializer.Deserialize<List<RegistrationTokenInfoDto>>((await admin(null, ["agent", "token", "list", "--json"])).Out, SlipwayClient.Json)!;
        var made = Assert.Single(agentTokens, t => t.Pool == "deploy");
        var table = await admin(null, ["agent", "token", "list"]);
        Assert.Matches($@"(?m)^\s*{made.Id}\s+deploy\s+needs approval\s+any\s+\S+ \S+\s+{made.ExpiresAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}\s+-\s*$", table.Out);
        Assert.Matches(@"(?m)^\s*\d+\s+nodes\s+needs approval\s+any\s+\S+ \S+\s+never\s+-\s*$", table.Out);
        Assert.DoesNotContain(agentToken, table.Out);
        var revoked = await admin(null, ["agent", "token", "revoke", made.Id.ToString()]);
        Assert.True(revoked.Exit == 0, revoked.Err);
        Assert.Contains($"registration token {made.Id} (pool deploy) revoked", revoked.Out);
        var again = await admin(null, ["agent", "token", "revoke", made.Id.ToString()]);
        Assert.Equal(1, again.Exit);
        Assert.Contains("was revoked already", again.Err);
        using (var http = new HttpClient { BaseAddress = new Uri(server.Url) })
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", agentToken);
            using var refused = await http.PostAsJsonAsync("/api/v1/agent/register", new Slipway.Contracts.Agents.RegisterAgentRequest(Slipway.Contracts.ProtocolVersion.Current, "d1", "deploy", [], 1));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The developer signs in with the password; the issued token is stored 0600 where the CLI says.
        var devConfig = Path.Combine(server.Options.FullDataDirectory, "dev-cli-config");
        var dev = (string? stdin, string[] args) => CliRunner.RunAsync(new Dictionary<string, string?>
        {
            ["SLIPWAY_SERVER"] = server.Url, ["XDG_CONFIG_HOME"] = devConfig,
        }, stdin, args);
        var login = await dev(DevPassword + "\n", ["login", "--username", "dev", "--password-stdin"]);
        Assert.True(login.Exit == 0, login.Err);
        var configFile = Path.Combine(devConfig, "slipway", "config.json");
        Assert.Contains($"as dev; API token #", login.Out);
        Assert.Contains($"saved to {configFile}", login.Out);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(configFile));
        var loginToken = JsonDocument.Parse(await File.ReadAllTextAsync(configFile)).RootElement.GetProperty("Token").GetString()!;
        Assert.StartsWith("slp_", loginToken);
        Assert.DoesNotContain(loginToken, login.Out + login.Err);

        var wrong = await dev("not-the-password\n", ["login", "--username", "dev", "--password-stdin"]);
        Assert.Equal(1, wrong.Exit);
        Assert.Contains("error: wrong username or password", wrong.Err);

        // A scoped token: shown once, with a warning; listed without its value; it reads but cannot start runs.
        var created = await dev(null, ["token", "create", "ci", "--scope", "run.read", "--scope", "project.read", "--expires-in-days", "7", "--json"]);
        Assert.True(created.Exit == 0, created.Err);
        Assert.Contains("shown only this once", created.Err);
        var ci = JsonSerializer.Deserialize<TokenCreatedDto>(created.Out, SlipwayClient.Json)!;
        Assert.Equal(["project.read", "run.read"], ci.Scope!.Order());
        var plain = await dev(null, ["token", "create", "laptop"]);
        Assert.Contains("created API token #", plain.Out);
        var laptopToken = plain.Out.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("slp_"));
        var list = await dev(null, ["token", "list", "--json"]);
        var tokens = JsonSerializer.Deserialize<List<TokenDto>>(list.Out, SlipwayClient.Json)!;
        Assert.Contains(tokens, t => t.Id == ci.Id && t.Active && t.Name == "ci");
        Assert.DoesNotContain(ci.Token, list.Out);
        Assert.Equal(0, (await dev(null, ["token", "create", "a-token-name-longer-than-the-old-twenty-four-character-column"])).Exit);
        var textList = await dev(null, ["token", "list"]);
        // One row per token under its headings, each column lined up however long the names are.
        var rows = TableAssert.Aligned(textList.Out, "ID  NAME");
        Assert.Contains(rows, r => r.Contains($"{ci.Id}  ci  ") && r.Contains("  active  ") && r.EndsWith("  project.read,run.read"));
        Assert.Contains(rows, r => r.Contains("  laptop  ") && r.EndsWith("  all of yours"));

        using (var http = Bearer(server, ci.Token))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/projects/shop/runs")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("/api/v1/projects/shop/runs", JsonContent("{}"))).StatusCode);
        }
        using (var http = Bearer(server, loginToken))
        {
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/v1/projects/shop/runs", JsonContent("{}"))).StatusCode);
            // A project she may not read is answered as one that does not exist: a refusal would confirm its name.
            using var other = await http.PostAsync("/api/v1/projects/other/runs", JsonContent("{}"));
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Contains("no project named 'other'", await other.Content.ReadAsStringAsync());
        }

        var revoke = await dev(null, ["token", "revoke", ci.Id.ToString()]);
        Assert.True(revoke.Exit == 0, revoke.Err);
        using (var http = Bearer(server, ci.Token))
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/projects/shop/runs")).StatusCode);
        Assert.Contains(JsonSerializer.Deserialize<List<TokenDto>>((await dev(null, ["token", "list", "--json"])).Out, SlipwayClient.Json)!,
            t => t.Id == ci.Id && !t.Active && t.RevokedAt is not null);

        // Disabling the user cuts off every token of theirs at the next request.
        using (var http = Bearer(server, laptopToken))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/me")).StatusCode);
            var disable = await admin(null, ["user", "disable", "dev"]);
            Assert.True(disable.Exit == 0, disable.Err);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/me")).StatusCode);
        }
        var afterDisable = await dev(null, ["token", "list"]);
        Assert.Equal(1, afterDisable.Exit);
        Assert.Contains("error: the API token's user is disabled; ask an admin", afterDisable.Err); // says why, in one line

        // The audit chain is intact, and the exports hold the evidence but never a secret.
        var verify = await admin(null, ["audit", "verify"]);
        Assert.True(verify.Exit == 0, verify.Out + verify.Err);
        Assert.Matches(@"^audit chain intact: \d+ entries, head [0-9a-f]{64}$", verify.Out.Trim());

        var csv = await admin(null, ["audit", "export", "--format", "csv"]);
        Assert.True(csv.Exit == 0, csv.Err);
        Assert.StartsWith("sequence,at,actor_kind,actor,source,action,target,outcome,detail,request_id,previous_hash,hash\r\n", csv.Out);
        var jsonFile = Path.Combine(server.Options.FullDataDirectory, "audit.json");
        var json = await admin(null, ["audit", "export", "--format", "json", "--from", DateTimeOffset.UtcNow.AddHours(-1).ToString("O"), "--output", jsonFile]);
        Assert.True(json.Exit == 0, json.Err);
        Assert.Contains($"to {jsonFile}", json.Err);
        var jsonText = await File.ReadAllTextAsync(jsonFile);
        var entries = JsonSerializer.Deserialize<List<Slipway.Core.Audit.AuditEntry>>(jsonText, Slipway.Core.Audit.AuditExport.JsonOptions)!;

        Assert.Contains(entries, e => e.Action == "grant.manage" && e.Outcome == "succeeded" && e.Target == "user:dev" && e.Detail!.StartsWith("granted developer on shop"));
        Assert.Contains(entries, e => e.Action == "account.self" && e.Actor == "dev" && e.Target == $"token:{ci.Id}"
                                      && e.Detail!.StartsWith("API token 'ci' created, expires in 7 days, scope project.read,run.read"));
        Assert.Contains(entries, e => e.Action == "account.self" && e.Target == $"token:{ci.Id}" && e.Detail!.StartsWith("API token revoked"));
        Assert.Contains(entries, e => e.Action == "session.create" && e.Actor == "dev" && e.Outcome == "succeeded");
        Assert.Contains(entries, e => e.Action == "session.create" && e.Actor == "dev" && e.Outcome == "denied" && e.Detail == "wrong password");
        Assert.Contains(entries, e => e.Action == "user.manage" && e.Target == "user:dev" && e.Detail!.StartsWith("user disabled"));
        Assert.Contains("granted developer on shop", csv.Out);
        Assert.Contains("API token 'ci' created", csv.Out);
        foreach (var secret in new[] { loginToken, ci.Token, laptopToken, DevPassword, "not-the-password", SlipwayTestServer.AdminToken })
        {
            Assert.DoesNotContain(secret, csv.Out);
            Assert.DoesNotContain(secret, jsonText);
        }

        var denied = await admin(null, ["audit", "list", "--actor", "dev", "--outcome", "denied", "--json"]);
        Assert.All(JsonSerializer.Deserialize<List<AuditEntryDto>>(denied.Out, SlipwayClient.Json)!, e => Assert.Equal("denied", e.Outcome));
        var text = await admin(null, ["audit", "list", "--action", "grant.manage", "--limit", "5"]);
        Assert.Contains("grant.manage user:dev — granted developer on shop", text.Out);
    }

    [Fact]
    public async Task RolesActionsAndPasswords_ThroughTheCli()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var admin = (string? stdin, string[] args) => CliRunner.AdminAsync(server, stdin, args);

        var actions = JsonSerializer.Deserialize<List<ActionDto>>((await admin(null, ["actions", "--json"])).Out, SlipwayClient.Json)!;
        Assert.Contains(actions, a => a.Name == "run.start" && a.Scope == "project");
        Assert.Contains("audit.read", (await admin(null, ["role", "actions"])).Out);

        var role = await admin(null, ["role", "create", "release-manager", "--action", "run.read", "--action", "run.retry", "--description", "retries"]);
        Assert.True(role.Exit == 0, role.Err);
        Assert.Contains("created role release-manager with run.read, run.retry", role.Out);
        var bad = await admin(null, ["role", "create", "broken", "--action", "no.such"]);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("error: not an action a role or token may hold: no.such (slipway role actions lists them)", bad.Err);
        Assert.Contains((JsonSerializer.Deserialize<List<RoleDto>>((await admin(null, ["role", "list", "--json"])).Out, SlipwayClient.Json))!,
            r => r.Name == "release-manager" && !r.BuiltIn);

        Assert.Equal(0, (await admin(null, ["user", "create", "rm"])).Exit);
        Assert.Equal(0, (await admin(null, ["user", "grant", "rm", "release-manager"])).Exit);
        var inUse = await admin(null, ["role", "delete", "release-manager"]);
        Assert.Equal(1, inUse.Exit);
        Assert.Contains("still granted 1 time(s)", inUse.Err);
        Assert.Equal(0, (await admin(null, ["user", "revoke", "rm", "release-manager"])).Exit);
        Assert.Equal(0, (await admin(null, ["role", "delete", "release-manager"])).Exit);
        Assert.Equal(0, (await admin(null, ["user", "grant", "rm", "viewer"])).Exit);

        // An admin sets rm's first password; rm signs in and changes it (current on line 1, new on line 2).
        Assert.Equal(0, (await admin("first-Password-4711\n", ["user", "set-password", "rm", "--password-stdin"])).Exit);
        var rmConfig = Path.Combine(server.Options.FullDataDirectory, "rm-cli-config");
        var rm = (string? stdin, string[] args) => CliRunner.RunAsync(new Dictionary<string, string?> { ["SLIPWAY_SERVER"] = server.Url, ["XDG_CONFIG_HOME"] = rmConfig }, stdin, args);
        Assert.Equal(0, (await rm("first-Password-4711\n", ["login", "--username", "rm", "--password-stdin"])).Exit);
        var wrongCurrent = await rm("nope-nope-nope-1\nsecond-Password-0815\n", ["user", "passwd", "--password-stdin"]);
        Assert.Equal(1, wrongCurrent.Exit);
        Assert.Contains("the current password is wrong", wrongCurrent.Err);
        var passwd = await rm("first-Password-4711\nsecond-Password-0815\n", ["user", "passwd", "--password-stdin"]);
        Assert.True(passwd.Exit == 0, passwd.Err);
        Assert.Equal(0, (await rm("second-Password-0815\n", ["login", "--username", "rm", "--password-stdin"])).Exit);

        // The bootstrap admin has no password: one line (the new password) sets it.
        var first = await admin("Harbour-Pilot-2026\n", ["user", "passwd", "--password-stdin"]);
        Assert.True(first.Exit == 0, first.Err);
        Assert.True((await server.Client.GetUserAsync("admin")).HasPassword);

        // Without --password-stdin and without a terminal, commands that need a password refuse instead of hanging.
        var noTty = await rm(null, ["login", "--username", "rm"]);
        Assert.Equal(2, noTty.Exit);
        Assert.Contains("--password-stdin", noTty.Err);
    }

    private static HttpClient Bearer(SlipwayTestServer server, string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
