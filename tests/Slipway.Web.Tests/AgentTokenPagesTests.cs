using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Slipway.Contracts;
using Slipway.Contracts.Agents;
using Slipway.Contracts.Api;
using Slipway.Testing;
using static Microsoft.Playwright.Assertions;

namespace Slipway.Web.Tests;

/// <summary>Agent registration tokens made on the agents page, through a real browser: shown once, and they admit agents.</summary>
public sealed class AgentTokenPagesTests
{
    [Fact]
    public async Task AgentsPage_MakesARegistrationTokenShownOnce_ThatRegistersAnAgent_AndAReloadMintsNone()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var api = TestApi.Admin(server);
        await api.CreateUserAsync("dana", "Dana", "developer");
        await using var admin = await BrowserSession.StartAsync(server.Url);
        var page = admin.Page;
        await admin.SignInAsync();

        await page.GotoAsync("/agents");
        var form = page.Locator("#create-agent-token");
        await Expect(form.GetByLabel("Pool")).ToHaveValueAsync("build"); // the API's default, and no agent yet: the section is open
        await form.GetByLabel("Pool").FillAsync("deploy");
        var answer = await page.RunAndWaitForResponseAsync(() => form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/agents/tokens", StringComparison.Ordinal));
        // Answered with a page of its own, never a redirect: the token is in no address, and no cache keeps it.
        Assert.Equal(200, answer.Status);
        Assert.Contains("no-store", answer.Headers["cache-control"]);
        Assert.Equal("/agents/tokens", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator("#created")).ToContainTextAsync("created for pool deploy");
        await Expect(page.Locator("#created")).ToContainTextAsync("wait for an admin's Approve");
        await Expect(page.Locator("#token-expiry")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^It admits agents until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$"));
        var token = (await page.Locator("#agent-token").InnerTextAsync()).Trim();
        Assert.StartsWith("slpr_", token);
        Assert.DoesNotContain(token, page.Url);
        Assert.Equal($"slipway agent --server {server.Url.TrimEnd('/')} --token {token} --pool deploy",
            (await page.Locator("#agent-command").InnerTextAsync()).Trim());

        // The token admits an agent to its pool (pending: not pre-approved), and to no other pool.
        var (status, registered) = await RegisterAsync(server, token, "deploy-1", "deploy");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pending", registered!.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await RegisterAsync(server, token, "build-1", "build")).Status);

        // Reloading the answer sends the form again: refused, no second token made, the first still works.
        var again = await page.ReloadAsync();
        Assert.Equal("POST", again!.Request.RedirectedFrom?.Method);
        Assert.Equal("/agents", new Uri(page.Url).AbsolutePath);
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("a registration token was made since this form was shown");
        await Expect(page.Locator("#agent-token")).ToHaveCountAsync(0);
        Assert.Single(await TokensMadeAsync(api));
        Assert.Equal(HttpStatusCode.OK, (await RegisterAsync(server, token, "deploy-2", "deploy")).Status);
        await Expect(page.Locator("tr", new() { HasText = "deploy-1" })).ToContainTextAsync("pending");

        // From the page as it is now, another one: pre-approved and bound to one agent name.
        await page.Locator("#new-agent-token summary").ClickAsync();
        await form.GetByLabel("Pool").FillAsync("nodes");
        await form.GetByLabel("Only this agent name").FillAsync("web-4-agent");
        await form.GetByLabel("Pre-approved").CheckAsync();
        await Expect(form.GetByLabel("Expires in days")).ToHaveValueAsync("7");
        await form.GetByLabel("Expires in days").FillAsync("0");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(page.Locator("#created")).ToContainTextAsync("for agent web-4-agent only");
        await Expect(page.Locator("#token-expiry")).ToContainTextAsync("It never expires: revoke it on the agents page");
        var bound = (await page.Locator("#agent-token").InnerTextAsync()).Trim();
        Assert.NotEqual(token, bound);
        Assert.EndsWith($"--token {bound} --pool nodes --name web-4-agent", (await page.Locator("#agent-command").InnerTextAsync()).Trim());
        Assert.Equal(HttpStatusCode.Forbidden, (await RegisterAsync(server, bound, "someone-else", "nodes")).Status);
        var (boundStatus, boundAgent) = await RegisterAsync(server, bound, "web-4-agent", "nodes");
        Assert.Equal(HttpStatusCode.OK, boundStatus);
        Assert.Equal("approved", boundAgent!.Status);

        // A refusal of the service comes back as the page's error, and makes nothing.
        await page.GotoAsync("/agents");
        await page.Locator("#new-agent-token summary").ClickAsync();
        await form.GetByLabel("Only this agent name").FillAsync("embedded");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("reserved for the servers' embedded agents");
        Assert.Equal(2, (await TokensMadeAsync(api)).Count);

        // Shown once: no later page has either token, the audit log's neither.
        foreach (var path in new[] { "/agents", "/audit", "/audit?routine=show" })
        {
            await page.GotoAsync(path);
            var html = await page.ContentAsync();
            Assert.DoesNotContain(token, html);
            Assert.DoesNotContain(bound, html);
        }
        var audit = await api.Http.GetStringAsync("/api/v1/audit?limit=1000");
        Assert.DoesNotContain(token, audit);
        Assert.DoesNotContain(bound, audit);

        // A developer sees the agents but no token form, and a forced post is refused and makes nothing.
        await using var developer = await BrowserSession.StartAsync(server.Url);
        await TestApi.SignInWithPasswordAsync(developer.Page, "dana");
        await developer.Page.GotoAsync("/agents");
        await Expect(developer.Page.Locator("tr", new() { HasText = "deploy-1" })).ToBeVisibleAsync();
        await Expect(developer.Page.Locator("#create-agent-token, #new-agent-token")).ToHaveCountAsync(0);
        var forced = await PageForms.PostAndFollowAsync(developer.Page, "/agents/tokens", new Dictionary<string, string> { ["pool"] = "build", ["newest"] = "2" });
        Assert.Equal(403, forced.Status);
        Assert.Contains("dana may not agent.token.create", WebUtility.HtmlDecode(forced.Body));
        Assert.DoesNotContain("slpr_", forced.Body);
        Assert.Equal(2, (await TokensMadeAsync(api)).Count);

        // The tokens are listed (never their values); revoking one stops it admitting agents, the agents it let in stay.
        var listed = (await api.Http.GetFromJsonAsync<List<RegistrationTokenInfoDto>>("/api/v1/agents/tokens"))!;
        var deployToken = listed.Single(t => t.Pool == "deploy");
        Assert.Equal((false, (string?)null, (DateTimeOffset?)null), (deployToken.PreApproved, deployToken.AgentName, deployToken.RevokedAt));
        Assert.Contains(listed, t => t.Pool == "nodes" && t.PreApproved && t.AgentName == "web-4-agent");
        await page.GotoAsync("/agents");
        var tokenRow = page.Locator($"#agent-tokens tr[data-token-id='{deployToken.Id}']");
        await Expect(tokenRow).ToContainTextAsync("needs approval");
        await Expect(tokenRow).ToContainTextAsync($"admits agents until {deployToken.ExpiresAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        await Expect(page.Locator($"#agent-tokens tr[data-token-id='{listed.Single(t => t.Pool == "nodes").Id}']")).ToContainTextAsync("never expires");
        await Expect(tokenRow).ToHaveAttributeAsync("data-revoked", "false");
        await tokenRow.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator(".flash.ok")).ToHaveTextAsync(
            $"Registration token #{deployToken.Id} (pool deploy) revoked: it admits no agent from now on. Agents it registered keep working.");
        Assert.Contains($"Revoke registration token #{deployToken.Id}?", admin.Confirms.Last());
        await Expect(tokenRow).ToHaveAttributeAsync("data-revoked", "true");
        await Expect(tokenRow).ToContainTextAsync("revoked ");
        Assert.Equal(HttpStatusCode.Unauthorized, (await RegisterAsync(server, token, "deploy-3", "deploy")).Status);
        await Expect(page.Locator("tr", new() { HasText = "deploy-1" })).ToBeVisibleAsync();
        using (var twice = await api.Http.PostAsync($"/api/v1/agents/tokens/{deployToken.Id}/revoke", null))
            Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Contains((await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=agent.token.create&limit=1000"))!,
            e => e.Detail!.Contains($"token {deployToken.Id} for pool 'deploy' revoked"));
        // The developer sees no tokens, and her forced revoke is refused.
        await developer.Page.GotoAsync("/agents");
        await Expect(developer.Page.Locator("#agent-tokens")).ToHaveCountAsync(0);
        var nodesToken = listed.Single(t => t.Pool == "nodes");
        var forcedRevoke = await PageForms.PostAndFollowAsync(developer.Page, $"/agents/tokens/{nodesToken.Id}/revoke");
        Assert.Equal(403, forcedRevoke.Status);
        Assert.Null((await api.Http.GetFromJsonAsync<List<RegistrationTokenInfoDto>>("/api/v1/agents/tokens"))!.Single(t => t.Id == nodesToken.Id).RevokedAt);

        Assert.Empty(admin.PageErrors);
        Assert.Empty(developer.PageErrors);
        Assert.True(admin.ConsoleErrors.Count == 0, string.Join("\n", admin.ConsoleErrors));
    }

    /// <summary>An agent's registration with <paramref name="token"/>, as `slipway agent` sends it.</summary>
    private static async Task<(HttpStatusCode Status, RegisterAgentResponse? Answer)> RegisterAsync(SlipwayTestServer server, string token, string name, string pool)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var answer = await http.PostAsJsonAsync("/api/v1/agent/register", new RegisterAgentRequest(ProtocolVersion.Current, name, pool, [], 1));
        return (answer.StatusCode, answer.IsSuccessStatusCode ? await answer.Content.ReadFromJsonAsync<RegisterAgentResponse>() : null);
    }

    /// <summary>The registration tokens made, as the audit log records them.</summary>
    private static async Task<List<AuditEntryDto>> TokensMadeAsync(TestApi api) =>
        (await api.Http.GetFromJsonAsync<List<AuditEntryDto>>("/api/v1/audit?action=agent.token.create&outcome=succeeded&limit=1000"))!;
}
