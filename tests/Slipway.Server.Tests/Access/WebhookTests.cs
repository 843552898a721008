using System.Net;
using System.Security.Cryptography;
using System.Text;
using Slipway.Testing;

namespace Slipway.Server.Tests.Access;

public sealed class WebhookTests
{
    private static string Payload(string branch, string sha) =>
        "{\"ref\":\"refs/heads/" + branch + "\",\"after\":\"" + sha + "\",\"repository\":{\"full_name\":\"acme/shop\"}}";

    private static HttpRequestMessage Hook(string project, string body, string? header, string? value)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/projects/{project}/hooks/git") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (header is not null) request.Headers.Add(header, value);
        return request;
    }

    private static string Sign(string secret, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData(null, null)]
    [InlineData("X-Hub-Signature-256", "sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("X-Hub-Signature-256", "sha256=not-hex")]
    [InlineData("X-Gitea-Signature", "deadbeef")]
    public async Task PushWebhook_WithMissingOrWrongSignature_Is401_AndStartsNothing(string? header, string? value)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        repo.WriteFile("new.txt", "x");
        var sha = repo.Commit("second");
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        var response = await http.SendAsync(Hook("p", Payload("main", sha), header, value));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Single(await server.Client.ListRunsAsync("p"));
    }

    [Theory]
    [InlineData("X-Hub-Signature-256", "sha256=")]
    [InlineData("X-Gitea-Signature", "")]
    public async Task PushWebhook_WithValidSignature_StartsARunOfThePushedCommit(string header, string prefix)
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        var created = await server.Client.CreateProjectAsync("p", repo.Path, "main");
        repo.CreateBranch("feature/SHOP-1");
        repo.Checkout("feature/SHOP-1");
        repo.WriteFile("new.txt", "x");
        var sha = repo.Commit("second");
        var body = Payload("feature/SHOP-1", sha);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        var response = await http.SendAsync(Hook("p", body, header, prefix + Sign(created.WebhookSecret!, body)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runs = await server.Client.ListRunsAsync("p");
        Assert.Equal(2, runs.Count);
        Assert.Equal("feature/SHOP-1", runs[0].Branch);
        Assert.Equal(sha, runs[0].Commit);
        Assert.Equal("push", (await server.Client.GetRunAsync(runs[0].Id)).Trigger);
    }

    [Fact]
    public async Task Polling_DetectsNewCommitsOnEveryBranch()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => { o.EmbeddedAgent = false; o.PollInterval = TimeSpan.FromMilliseconds(300); });
        using var repo = Pipelines.Repo(Pipelines.OneJob("true"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        repo.WriteFile("a.txt", "a");
        var onMain = repo.Commit("on main");
        repo.CreateBranch("topic");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<Slipway.Contracts.Api.RunSummaryDto> runs;
        do { await Task.Delay(200); runs = await server.Client.ListRunsAsync("p"); } while (runs.Count < 3 && DateTime.UtcNow < deadline);

        Assert.Equal(3, runs.Count);
        Assert.Contains(runs, r => r.Branch == "main" && r.Commit == onMain);
        Assert.Contains(runs, r => r.Branch == "topic" && r.Commit == onMain);
    }
}
