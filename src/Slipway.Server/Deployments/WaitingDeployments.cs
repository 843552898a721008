using Slipway.Core.Access;
using Slipway.Core.Deployments;

namespace Slipway.Server.Deployments;

/// <summary>A deployment that waits: for an approval, or in its environment's queue.</summary>
public sealed record WaitingDeployment(string Project, long Number, string Environment, string Release, string State, string Initiator, DateTimeOffset RequestedAt);

/// <summary>What waits across the projects a user may see deployments of, oldest first (the dashboards' "what is waiting").</summary>
public static class WaitingDeployments
{
    public static async Task<IReadOnlyList<WaitingDeployment>> ForAsync(Principal.User me, DeploymentStore deployments) =>
        (await deployments.InStatesAsync(DeploymentState.AwaitingApproval, DeploymentState.Queued))
            .Where(d => me.Permissions.CanOnProject(Actions.DeploymentRead, d.ProjectName))
            .Select(d => new WaitingDeployment(d.ProjectName, d.Number, d.Environment, d.Version, d.State, d.Initiator, UnixMs.To(d.RequestedAt)))
            .ToList();
}
