using Slipway.Contracts.Agents;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Deployments.Rollout;

namespace Slipway.Server.Targets;

/// <summary>Fetches the SSH host key a server offers (for <c>slipway target scan</c>), without authenticating.</summary>
public interface IHostKeyScanner
{
    Task<(string Fingerprint, string KeyType)> ScanAsync(string host, int port, TimeSpan timeout, CancellationToken ct);
}

/// <summary>
/// An environment's deployment targets and load balancers, as server-side configuration (a pipeline file can only name
/// a role): added, changed, disabled and removed with env.manage, every change audited here whichever door it came
/// through. A host key is pinned when the target is added (<c>--host-key</c>) or after a scan only when the person
/// accepts the exact fingerprint the scan showed.
/// </summary>
public sealed class TargetService(EnvironmentService environments, TargetStore targets, IHostKeyScanner scanner, Agents.AgentStore agents, TimeProvider clock)
{
    public static readonly TimeSpan ScanTimeout = TimeSpan.FromSeconds(10);
    public const int MaxTargets = 1000;

    public async Task<IReadOnlyList<TargetDto>> ListAsync(string project, string env)
    {
        var (p, e) = await environments.FindAsync(project, env);
        var standing = await targets.StandingAsync(e.Id);
        return (await targets.ListAsync(e.Id)).Select(t => ToDto(p.Name, e.Name, t, standing)).ToList();
    }

    public async Task<TargetDto> ShowAsync(string project, string env, string name)
    {
        var (p, e) = await environments.FindAsync(project, env);
        var row = await targets.FindAsync(e.Id, name) ?? throw NotFound(env, name);
        return ToDto(p.Name, e.Name, row, await targets.StandingAsync(e.Id));
    }

    /// <summary>Adds (<paramref name="name"/> null) or changes a target; fields left null keep their value.</summary>
    public async Task<TargetDto> SaveAsync(Actor actor, string project, string env, string? name, TargetRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must describe the target: name, host, sshUser, roles, ...");
        var (p, e) = await environments.FindAsync(project, env);
        var create = name is null;
        var current = create ? null : await targets.FindAsync(e.Id, name!) ?? throw NotFound(env, name!);
        if (!create && request.Name is not null && request.Name != name) throw new ArgumentException("a target cannot be renamed; remove it and add it again");
        if (create && (await targets.ListAsync(e.Id)).Count >= MaxTargets) throw new ConflictException($"an environment has at most {MaxTargets} targets");
        var target = new DeploymentTarget(
            name ?? request.Name ?? throw new ArgumentException("give the target a 'name'"),
            request.Host ?? current?.Host ?? throw new ArgumentException("give the target's 'host' (name or address the deploy agent reaches it by)"),
            request.SshPort ?? current?.SshPort ?? 22,
            request.SshUser ?? current?.SshUser ?? "deploy",
            request.Roles ?? current?.RoleList ?? [],
            request.BalancerServer is null ? current?.BalancerServer : request.BalancerServer.Length == 0 ? null : request.BalancerServer,
            request.HostKey is null ? current?.HostKey : request.HostKey.Length == 0 ? null : request.HostKey,
            request.Disabled ?? current?.Disabled ?? false,
            request.NodeAgent is null ? current?.NodeAgent : request.NodeAgent.Length == 0 ? null : request.NodeAgent);
        if (Check(target) is { } error) throw new ArgumentException(error);
        // A node agent serves the one target it registered for: naming an agent registered as anything else is refused.
        if (target.NodeAgent is { } agentName && agentName != current?.NodeAgent && await agents.FindAsync(agentName) is { } agent
            && agent.NodeTarget != $"{p.Name}/{e.Name}/{target.Name}")
            throw new ConflictException($"agent '{agentName}' is registered as " + (agent.NodeTarget is { } other ? $"the node agent of {other}" : "a pool agent") +
                $"; a node agent serves one target: start a new agent on {target.Name} with --target {p.Name}/{e.Name}/{target.Name} and name that one");
        if (!await targets.SaveAsync(e.Id, target, create, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw create ? new ConflictException($"environment '{env}' already has a target '{target.Name}'") : NotFound(env, target.Name);
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, Scope(p.Name, e.Name, target.Name),
            $"target '{target.Name}' of '{e.Name}' {(create ? "added" : "changed")}: {Describe(target)}" + KeyChange(current?.HostKey, target.HostKeyFingerprint, create));
        return await ShowAsync(p.Name, e.Name, target.Name);
    }

    public async Task RemoveAsync(Actor actor, string project, string env, string name)
    {
        var (p, e) = await environments.FindAsync(project, env);
        if (!await targets.RemoveAsync(e.Id, name)) throw NotFound(env, name);
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, Scope(p.Name, e.Name, name), $"target '{name}' of '{e.Name}' removed");
    }

    /// <summary>
    /// Asks the target for its host key. Stores it only when <paramref name="accept"/> equals the fingerprint offered now
    /// (so what is pinned is what the person read), and says what was pinned before.
    /// </summary>
    public async Task<HostKeyScanDto> ScanAsync(Actor actor, string project, string env, string name, string? accept, CancellationToken ct)
    {
        var (p, e) = await environments.FindAsync(project, env);
        var row = await targets.FindAsync(e.Id, name) ?? throw NotFound(env, name);
        if (accept is not null && TargetRules.CheckFingerprint(accept) is { } bad) throw new ArgumentException(bad);
        string fingerprint, keyType;
        try
        {
            (fingerprint, keyType) = await scanner.ScanAsync(row.Host, row.SshPort, ScanTimeout, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new ConflictException($"could not read the host key of '{name}' at {row.Host}:{row.SshPort}: {ex.Message}");
        }
        var stored = false;
        if (accept is not null)
        {
            if (accept != fingerprint)
                throw new ConflictException($"host key of '{name}' is {fingerprint}, not {accept}: nothing was stored (check the server's key with " +
                                            "'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on it before accepting)");
            var target = row.ToTarget() with { HostKeyFingerprint = fingerprint };
            await targets.SaveAsync(e.Id, target, create: false, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds());
            await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, Scope(p.Name, e.Name, name),
                $"host key of target '{name}' accepted after a scan: {keyType} {fingerprint}" + (row.HostKey is { } old && old != fingerprint ? $" (replacing {old})" : ""));
            stored = true;
        }
        return new HostKeyScanDto(name, fingerprint, keyType, stored ? fingerprint : row.HostKey, stored);
    }

    public async Task<IReadOnlyList<BalancerDto>> BalancersAsync(string project, string env)
    {
        var (_, e) = await environments.FindAsync(project, env);
        return (await targets.BalancersAsync(e.Id)).Select(ToDto).ToList();
    }

    /// <summary>
    /// Adds or changes a load balancer; fields left null keep their value, but only while the kind stays the same (a
    /// balancer changed from haproxy to script keeps no address, one changed back keeps no commands).
    /// </summary>
    public async Task<BalancerDto> SaveBalancerAsync(Actor actor, string project, string env, string name, BalancerRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must describe the load balancer: kind, address or commands, minHealthy, drainTimeout");
        if (TargetRules.CheckName(name, "load balancer name") is { } nameError) throw new ArgumentException(nameError);
        var (p, e) = await environments.FindAsync(project, env);
        var current = (await targets.BalancersAsync(e.Id)).FirstOrDefault(b => b.Name == name);
        var kind = request.Kind ?? current?.Kind ?? BalancerSpec.Haproxy;
        if (!BalancerSpec.Kinds.Contains(kind)) throw new ArgumentException($"load balancer kind '{kind}' is not supported; use haproxy or script");
        // A script balancer's commands run on the deploy agent outside any job sandbox: they are the server's
        // administrators' to write (those who approve agents), not a project's. Removing one stays env.manage.
        if (kind == BalancerSpec.Script && Authorizer.Decide(actor.User, Actions.AgentApprove, new Scope()) is { Allowed: false })
        {
            var refusal = $"a script load balancer's commands run on the deploy agent outside the job sandbox, so only a server administrator " +
                          $"(who may {Actions.AgentApprove}) sets them; {actor.User.Username} may not";
            await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Denied, $"project:{p.Name} env:{e.Name} balancer:{name}", refusal);
            throw new PolicyRefusedException(refusal);
        }
        var same = current?.Kind == kind ? current : null;
        string address;
        BalancerCommands commands;
        if (kind == BalancerSpec.Haproxy)
        {
            if (new[] { request.DrainCommand, request.EnableCommand, request.StatusCommand }.Any(c => !string.IsNullOrEmpty(c)))
                throw new ArgumentException("a haproxy load balancer takes an address, not commands: use kind script for drain, enable and status commands");
            address = request.Address ?? same?.Address ?? throw new ArgumentException("give the runtime API 'address': a unix socket path or host:port as the deploy agent reaches it");
            if (BalancerAddress.Check(address) is { } addressError) throw new ArgumentException(addressError);
            commands = new BalancerCommands(null, null, null);
        }
        else
        {
            if (!string.IsNullOrEmpty(request.Address))
                throw new ArgumentException("a script load balancer has no address: its drain, enable and status commands reach the balancer");
            address = "";
            commands = new BalancerCommands(request.DrainCommand ?? same?.DrainCommand, request.EnableCommand ?? same?.EnableCommand,
                request.StatusCommand ?? same?.StatusCommand);
            if (BalancerCommandRules.Check(commands) is { } commandError) throw new ArgumentException(commandError);
        }
        var minHealthy = request.MinHealthy ?? current?.MinHealthy ?? 1;
        if (minHealthy is < 1 or > 1000) throw new ArgumentException("min_healthy is 1 to 1000: a rollout never takes a whole backend out of rotation");
        var drain = current is null ? 30 : current.DrainTimeoutSeconds;
        if (request.DrainTimeout is { } text)
            drain = Core.Pipelines.Durations.TryParsePositive(text, TimeSpan.FromHours(1), out var d, out var err) ? (int)Math.Ceiling(d.TotalSeconds) : throw new ArgumentException(err);
        await targets.SaveBalancerAsync(e.Id, name, kind, address, minHealthy, drain, commands, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds());
        var what = kind == BalancerSpec.Haproxy
            ? $"{kind} at {address}"
            : $"script (drain command: {commands.Drain}; enable command: {commands.Enable}; status command: {commands.Status})";
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{p.Name} env:{e.Name} balancer:{name}",
            $"load balancer '{name}' of '{e.Name}' {(current is null ? "added" : "changed")}: {what}, min_healthy {minHealthy}, drain timeout {drain}s");
        return ToDto((await targets.BalancersAsync(e.Id)).First(b => b.Name == name));
    }

    public async Task RemoveBalancerAsync(Actor actor, string project, string env, string name)
    {
        var (p, e) = await environments.FindAsync(project, env);
        if (!await targets.RemoveBalancerAsync(e.Id, name)) throw new KeyNotFoundException($"environment '{env}' has no load balancer '{name}'");
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{p.Name} env:{e.Name} balancer:{name}", $"load balancer '{name}' of '{e.Name}' removed");
    }

    private static string? Check(DeploymentTarget t) =>
        TargetRules.CheckName(t.Name) ?? TargetRules.CheckHost(t.Host) ?? TargetRules.CheckPort(t.SshPort) ?? TargetRules.CheckUser(t.SshUser)
        ?? (t.Roles.Count == 0 ? "give the target at least one role (e.g. web); a rollout picks targets by role" : TargetRules.CheckRoles(t.Roles))
        ?? (t.BalancerServer is { } s ? TargetRules.CheckBalancerServer(s) : null)
        ?? (t.HostKeyFingerprint is { } k ? TargetRules.CheckFingerprint(k) : null)
        ?? (t.NodeAgent is { } a ? TargetRules.CheckName(a, "node agent name") : null);

    private static string Describe(DeploymentTarget t) =>
        (t.NodeAgent is { } agent ? $"{t.Host} via node agent {agent}" : $"{t.SshUser}@{t.Host}:{t.SshPort}") + $", roles [{string.Join(", ", t.Roles)}]" + (t.BalancerServer is { } s ? $", behind {s}" : "") + (t.Disabled ? ", disabled" : "");

    private static string KeyChange(string? before, string? after, bool create) =>
        before == after ? (create ? ", no host key pinned" : "") : after is null ? $", host key unpinned (was {before})" : $", host key pinned {after}" + (before is null ? "" : $" (was {before})");

    private static string Scope(string project, string env, string target) => $"project:{project} env:{env} target:{target}";

    private static KeyNotFoundException NotFound(string env, string name) => new($"environment '{env}' has no target '{name}'");

    private static TargetDto ToDto(string project, string env, TargetRow t, IReadOnlyDictionary<string, TargetStanding> standing)
    {
        var s = standing.GetValueOrDefault(t.Name);
        return new TargetDto(project, env, t.Name, t.Host, t.SshPort, t.SshUser, t.RoleList, t.BalancerServer, t.HostKey, t.Disabled,
            s?.CurrentRelease, s?.LastState, s?.LastReason, s?.LastDeployment, UnixMs.To(t.UpdatedAt), t.UpdatedBy, t.NodeAgent);
    }

    private static BalancerDto ToDto(BalancerRow b) => new(b.Name, b.Kind, b.Address, b.MinHealthy, b.DrainTimeoutSeconds, UnixMs.To(b.UpdatedAt), b.UpdatedBy,
        b.DrainCommand, b.EnableCommand, b.StatusCommand);
}

/// <summary>A runtime API address: an absolute unix socket path, or host:port.</summary>
public static class BalancerAddress
{
    public static string? Check(string address)
    {
        if (address.Length is 0 or > 200 || address.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            return "the address is a unix socket path or host:port, without spaces";
        if (address.StartsWith('/')) return null;
        var colon = address.LastIndexOf(':');
        return colon > 0 && int.TryParse(address[(colon + 1)..], out var port) && port is >= 1 and <= 65535 && TargetRules.CheckHost(address[..colon].Trim('[', ']')) is null
            ? null : $"'{address}' is neither an absolute unix socket path nor host:port";
    }
}

/// <summary>A script balancer's commands: all three given, each at most <see cref="MaxChars"/> characters, no NUL.</summary>
public static class BalancerCommandRules
{
    public const int MaxChars = 4000;

    public static string? Check(BalancerCommands commands)
    {
        var missing = new[] { ("drainCommand", commands.Drain), ("enableCommand", commands.Enable), ("statusCommand", commands.Status) }
            .Where(c => string.IsNullOrWhiteSpace(c.Item2)).Select(c => c.Item1).ToList();
        if (missing.Count > 0)
            return $"a script load balancer needs all three commands (drainCommand, enableCommand, statusCommand); missing: {string.Join(", ", missing)}";
        foreach (var (field, command) in new[] { ("drainCommand", commands.Drain!), ("enableCommand", commands.Enable!), ("statusCommand", commands.Status!) })
        {
            if (command.Length > MaxChars) return $"{field} is {command.Length} characters long; at most {MaxChars}";
            if (command.Contains('\0')) return $"{field} contains a NUL character";
        }
        return null;
    }
}
