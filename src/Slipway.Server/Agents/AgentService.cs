using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Agents;

/// <summary>
/// What operators ask of agents (<see cref="AgentsApi"/>, <see cref="AgentPages"/>): approve, disable, remove, and
/// registration tokens. A running agent is not removed; every change is audited, a refused removal too.
/// </summary>
public sealed class AgentService(AgentStore agents, TimeProvider clock)
{
    public async Task<AgentDto> SetStatusAsync(Actor actor, string name, string status)
    {
        if (!await agents.SetStatusAsync(name, status)) throw new KeyNotFoundException($"no agent named '{name}'");
        await actor.AuditAsync(Actions.AgentApprove, AuditOutcomes.Succeeded, $"agent:{name}", $"agent {status}");
        return (await agents.FindAsync(name))!.ToDto();
    }

    /// <summary>Removes an agent so its name can be registered again: refused while it runs jobs.</summary>
    public async Task RemoveAsync(Actor actor, string name)
    {
        var outcome = await agents.RemoveAsync(name) ?? throw new KeyNotFoundException($"no agent named '{name}'");
        if (!outcome.Removed)
        {
            var refusal = $"agent '{name}' is running {outcome.RunningJobs} job(s): disable it first (slipway agent disable {name}), " +
                          "let its jobs end or cancel their runs, then remove it";
            await actor.AuditAsync(Actions.AgentApprove, AuditOutcomes.Failed, $"agent:{name}", "not removed: " + refusal);
            throw new ConflictException(refusal);
        }
        await actor.AuditAsync(Actions.AgentApprove, AuditOutcomes.Succeeded, $"agent:{name}", "agent removed: its credential no longer works and its name is free");
    }

    /// <summary>How long a registration token admits agents unless asked otherwise: long enough to set up a machine, short enough
    /// that one forgotten in a chat or a ticket stops working (kubeadm's join tokens: 24 hours).</summary>
    public const int DefaultTokenDays = 7;

    public const int MaxTokenDays = 365;

    /// <summary>A registration token for a pool (build by default), shown once; it expires after
    /// <see cref="DefaultTokenDays"/> days unless the request says otherwise (0: never).</summary>
    /// <param name="newestSeen">The agents page's form sends the id of the newest registration token the page was shown with
    /// (<see cref="AgentStore.NewestRegistrationTokenIdAsync"/>): a token made since, such as the one this form just made
    /// when the browser sends it again on a reload of the page that showed it, refuses it (409), so a reload never mints a
    /// token nobody saw. Null (the API): no such check.</param>
    public async Task<RegistrationTokenDto> CreateTokenAsync(Actor actor, CreateRegistrationTokenRequest? request, long? newestSeen = null)
    {
        var pool = string.IsNullOrWhiteSpace(request?.Pool) ? "build" : request.Pool.Trim();
        var bound = string.IsNullOrWhiteSpace(request?.AgentName) ? null : request.AgentName.Trim();
        if (bound is not null && Core.Deployments.Rollout.TargetRules.CheckName(bound, "agent name") is { } invalid) throw new ArgumentException(invalid);
        if (bound is not null && Recovery.IsReservedAgentName(bound)) throw new ArgumentException($"the name '{bound}' is reserved for the servers' embedded agents");
        var days = request?.ExpiresInDays ?? DefaultTokenDays;
        if (days is < 0 or > MaxTokenDays)
            throw new ArgumentException($"a registration token expires in 1 to {MaxTokenDays} days, or never (0)");
        var token = Tokens.New(Tokens.RegistrationPrefix);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        long? expires = days == 0 ? null : now + (long)TimeSpan.FromDays(days).TotalMilliseconds;
        var id = newestSeen is { } seen
            ? await agents.CreateRegistrationTokenAfterAsync(seen, Tokens.Hash(token), pool, request?.PreApproved ?? false, now, bound, expires)
              ?? throw new ConflictException("a registration token was made since this form was shown (was the page that showed a new token " +
                                             "reloaded?): none was made now, and the one shown then still works. To make another, use the form below.")
            : await agents.CreateRegistrationTokenAsync(Tokens.Hash(token), pool, request?.PreApproved ?? false, now, bound, expires);
        await actor.AuditAsync(Actions.AgentTokenCreate, AuditOutcomes.Succeeded, $"registration-token:{id}",
            $"agent registration token for pool '{pool}'" + (request?.PreApproved == true ? ", pre-approved" : "") + (bound is null ? "" : $", for agent '{bound}' only") +
            (days == 0 ? ", never expires" : $", expires in {days} day{(days == 1 ? "" : "s")}"));
        return new RegistrationTokenDto(id, token, pool, request?.PreApproved ?? false, UnixMs.To(expires));
    }

    /// <summary>The tokens in force and the newest revoked or expired ones (AgentStore.ListRegistrationTokensAsync).</summary>
    public async Task<IReadOnlyList<RegistrationTokenInfoDto>> ListTokensAsync()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        return (await agents.ListRegistrationTokensAsync(now)).Select(t => Info(t, now)).ToList();
    }

    private static RegistrationTokenInfoDto Info(RegistrationTokenRow t, long now) =>
        new(t.Id, t.Pool, t.PreApproved != 0, t.AgentName, UnixMs.To(t.CreatedAt), UnixMs.To(t.RevokedAt), UnixMs.To(t.ExpiresAt),
            Expired: t.RevokedAt is null && t.ExpiresAt <= now);

    /// <summary>
    /// Revokes a registration token: it admits no agent from then on. Agents it registered keep their own credentials (disable
    /// or remove them for that). 404 for no such token, 409 when it was revoked already.
    /// </summary>
    public async Task<RegistrationTokenInfoDto> RevokeTokenAsync(Actor actor, long id)
    {
        var token = await agents.GetRegistrationTokenAsync(id) ?? throw new KeyNotFoundException($"no registration token {id}");
        if (!await agents.RevokeRegistrationTokenAsync(id, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"registration token {id} was revoked already" + (token.RevokedAt is { } at ? $" ({UnixMs.To(at):u})" : ""));
        await actor.AuditAsync(Actions.AgentTokenCreate, AuditOutcomes.Succeeded, $"registration-token:{id}",
            $"agent registration token {id} for pool '{token.Pool}' revoked");
        return Info((await agents.GetRegistrationTokenAsync(id))!, clock.GetUtcNow().ToUnixTimeMilliseconds());
    }
}
