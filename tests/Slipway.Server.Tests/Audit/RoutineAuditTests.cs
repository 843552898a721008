using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Audit;

/// <summary>routine=hide on the audit list: a real run's agent traffic and the reads drop out, changes and refusals stay.</summary>
public sealed class RoutineAuditTests
{
    [Fact]
    public async Task HidingRoutineEntries_LeavesChangesAndRefusals_AndDropsAgentTrafficAndReads()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("echo built"));
        await server.CreateProjectAndWaitAsync("shop", repo.Path);
        var viewer = await UserWithRoleAsync(server, "vic", "viewer", "shop");
        using (var asVic = new HttpClient { BaseAddress = new Uri(server.Url) })
        {
            asVic.DefaultRequestHeaders.Authorization = new("Bearer", viewer);
            await asVic.GetAsync("/api/v1/projects/shop/runs");   // an allowed read
            await asVic.PostAsync("/api/v1/projects/shop/runs", Body(new { branch = "main" })); // refused
        }

        var all = await AuditAsync(server, "");
        var kept = await AuditAsync(server, "routine=hide");

        Assert.Contains(all, e => e.ActorKind == AuditActorKinds.Agent && e.Action == Actions.AgentWork);
        Assert.Contains(all, e => e.Actor == "vic" && e.Action == Actions.RunRead && e.Outcome == AuditOutcomes.Allowed);
        Assert.DoesNotContain(kept, e => RoutineEntries.IsRoutine(e.ActorKind, e.Action, e.Outcome));
        Assert.Contains(kept, e => e.Actor == "vic" && e.Action == Actions.RunStart && e.Outcome == AuditOutcomes.Denied);
        Assert.Contains(kept, e => e.Action == Actions.ProjectCreate);
        Assert.Equal(all.Count(e => !RoutineEntries.IsRoutine(e.ActorKind, e.Action, e.Outcome)), kept.Count);
    }
}
