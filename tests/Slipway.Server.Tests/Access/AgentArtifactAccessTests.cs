using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Slipway.Contracts;
using Slipway.Contracts.Agents;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>An agent fetches artifacts only under a job's lease, and only those of that job's run (protocol 3).</summary>
public sealed class AgentArtifactAccessTests
{
    [Fact]
    public async Task AnAgent_CannotDownloadAnotherProjectsArtifact_EvenKnowingItsDigest()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        // Project A: the embedded agent builds an artifact (its digest is public in the run's API view).
        using var repoA = Pipelines.Repo(Pipelines.OneJob("mkdir -p out && echo secret-build-output > out/a.txt", "        artifacts: [out/**]"));
        var runA = await server.WaitForRunAsync(await server.CreateProjectAsync("alpha", repoA.Path));
        var digest = Assert.Single(runA.Artifacts).Sha256;

        // Project B's job runs in a pool only our hand-driven agent serves.
        var registration = await server.Client.CreateAgentTokenAsync("manual", preApproved: true);
        using var reg = Http(server, registration.Token);
        var registered = await Expect(await reg.PostAsync("/api/v1/agent/register",
            Body(new RegisterAgentRequest(ProtocolVersion.Current, "intruder", "manual", [], 1))), HttpStatusCode.OK);
        var credential = JsonDocument.Parse(await registered.Content.ReadAsStringAsync()).RootElement.GetProperty("credential").GetString();
        using var agent = Http(server, credential);
        using var repoB = Pipelines.Repo(Pipelines.OneJob("sleep 30", "        pool: manual"));
        await server.CreateProjectAsync("beta", repoB.Path);
        var poll = await Expect(await agent.PostAsync("/api/v1/agent/poll", Body(new PollRequest(1, 20))), HttpStatusCode.OK);
        var lease = (await ReadAsync<JobLease>(poll));
        Assert.Equal("beta", lease.Project);

        var withoutLease = await agent.GetAsync($"/api/v1/agent/jobs/{lease.JobId}/artifacts/{digest}");
        using var leased = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/jobs/{lease.JobId}/artifacts/{digest}");
        leased.Headers.Add(AgentHeaders.LeaseId, lease.LeaseId);
        var withLease = await agent.SendAsync(leased);

        Assert.Equal(HttpStatusCode.Conflict, withoutLease.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, withLease.StatusCode);
        Assert.DoesNotContain("secret-build-output", await withLease.Content.ReadAsStringAsync());
    }
}
