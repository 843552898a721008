using Slipway.Contracts.Api;

namespace Slipway.Server.Agents;

/// <summary>Agent rows to API shapes.</summary>
public static class AgentMapping
{
    public static AgentDto ToDto(this AgentRow a) =>
        new(a.Id, a.Name, a.Pool, a.Labels.Split(',', StringSplitOptions.RemoveEmptyEntries), (int)a.Slots, a.Status,
            UnixMs.To(a.LastSeenAt), (int)a.RunningJobs);
}
