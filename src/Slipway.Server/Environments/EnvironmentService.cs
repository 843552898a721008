using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Environments;
using Slipway.Core.Secrets;

namespace Slipway.Server.Environments;

/// <summary>
/// A project's environments as server-side configuration: create and change them (settings checked by
/// <see cref="EnvironmentSettings.Check"/>), freeze windows, variables and secrets (write-only). Every change is audited
/// here, whichever door it came through (<see cref="EnvironmentsApi"/>, <see cref="EnvironmentPages"/>); the endpoints
/// checked env.manage / env.read before calling.
/// </summary>
public sealed class EnvironmentService(ProjectStore projects, EnvironmentStore environments, SecretVault vault, TimeProvider clock, PoolPresence presence)
{
    public async Task<IReadOnlyList<EnvironmentDto>> ListAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        var list = new List<EnvironmentDto>();
        foreach (var e in await environments.ListAsync(project.Id)) list.Add(await ToDtoAsync(e, project.Name));
        return list;
    }

    /// <summary>The names of the project's environments in lifecycle order (what a gate may name as where it measures).</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(string name) =>
        (await environments.ListAsync((await projects.RequireAsync(name)).Id)).Select(e => e.Settings.Name).ToList();

    public async Task<EnvironmentDto> ShowAsync(string name, string env)
    {
        var (project, row) = await FindAsync(name, env);
        return await ToDtoAsync(row, project.Name);
    }

    /// <summary>
    /// Creates (env null) or changes an environment. When no agent
    /// of its pool is connected, the answer carries a warning (the environment is saved all the same: the agent may come later),
    /// so a deployment that would only wait is not a surprise.
    /// </summary>
    public async Task<EnvironmentDto> SaveAsync(Actor actor, string name, string? env, EnvironmentRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must describe the environment: name, position, pool, ...");
        var project = await projects.RequireAsync(name);
        var create = env is null;
        var current = create ? null : (await environments.FindAsync(project.Id, env!) ?? throw NotFound(name, env!)).Settings;
        if (!create && request.Name is not null && request.Name != env) throw new ArgumentException("an environment cannot be renamed");
        var settings = new EnvironmentSettings(
            env ?? request.Name ?? throw new ArgumentException("give the environment a 'name'"),
            request.Position ?? current?.Position ?? ((await environments.ListAsync(project.Id)).Select(e => (int)e.Position).DefaultIfEmpty(-1).Max() + 1),
            request.Optional ?? current?.Optional ?? false,
            request.Pool ?? current?.Pool ?? "deploy",
            request.Deployers ?? current?.Deployers ?? [],
            request.RequiredApprovals ?? current?.RequiredApprovals ?? 0,
            request.ApproverRole is null ? current?.ApproverRole : request.ApproverRole.Length == 0 ? null : request.ApproverRole,
            request.AutoDeploy ?? current?.AutoDeploy ?? false,
            request.QueuePolicy is null ? current?.Queue ?? QueuePolicy.OldestFirst : EnvironmentSettings.ParseQueue(request.QueuePolicy));
        if (settings.Check() is { } error) throw new ArgumentException(error);
        // A pool's agents reach the servers of every environment deploying through it: an admin of one project must not
        // send that project's deployments (whose rules they set) to another project's production agents.
        if ((create || settings.Pool != current?.Pool) && !actor.User.Permissions.CanOnEveryProject(Actions.EnvironmentManage)
            && await environments.PoolTakenAsync(settings.Pool, project.Id))
            throw new PolicyRefusedException(
                $"pool '{settings.Pool}' already deploys environments of another project or has agents serving it, and they may reach other servers: " +
                $"only someone with {Actions.EnvironmentManage} on every project may give it to an environment of '{name}'; " +
                "choose a new pool for this project (pool: NAME), and have an admin register its agents");
        var user = actor.User.Username;
        if (!await environments.SaveAsync(project.Id, settings, create, user, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw create ? new ConflictException($"project '{name}' already has an environment '{settings.Name}'") : NotFound(name, settings.Name);
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{settings.Name}",
            $"environment '{settings.Name}' {(create ? "created" : "changed")}: position {settings.Position}{(settings.Optional ? " (optional)" : "")}, pool {settings.Pool}, " +
            $"deployers [{string.Join(", ", settings.Deployers)}], {settings.RequiredApprovals} approval{(settings.RequiredApprovals == 1 ? "" : "s")}{(settings.ApproverRole is { } r ? $" by {r}" : "")}, " +
            $"auto-deploy {(settings.AutoDeploy ? "on" : "off")}, queue {EnvironmentSettings.QueueName(settings.Queue)}");
        var dto = await ToDtoAsync((await environments.FindAsync(project.Id, settings.Name))!, project.Name);
        if (create || settings.Pool != current?.Pool)
        {
            List<string> warnings = [];
            if (!await presence.HasAgentAsync(settings.Pool)) warnings.Add(NoAgentWarning(settings.Pool));
            // Allowed to an admin of every project, and said aloud: the other project's deployment scripts (set by its own
            // admins) run on the same agents as this environment's.
            if (await environments.PoolSharedAsync(settings.Pool, project.Id))
                warnings.Add($"pool '{settings.Pool}' also deploys environments of other projects: their deployment scripts run on the same agents " +
                             "as this environment's; give an environment that must stay apart (production) a pool of its own");
            if (warnings.Count > 0) dto = dto with { Warnings = warnings };
        }
        return dto;
    }

    public async Task<EnvironmentDto> AddFreezeAsync(Actor actor, string name, string env, FreezeWindowRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must be {name, cron, duration, timeZone} or {name, from, to}");
        TimeSpan? duration = null;
        if (request.Duration is { } text)
            duration = Core.Pipelines.Durations.TryParsePositive(text, FreezeWindow.MaxDuration, out var d, out var e) ? d : throw new ArgumentException(e);
        var window = new FreezeWindow(request.Name ?? "", request.Cron, duration, request.TimeZone, request.From, request.To);
        if (window.Check() is { } error) throw new ArgumentException(error);
        var (project, row) = await FindAsync(name, env);
        var user = actor.User.Username;
        var id = await environments.AddFreezeAsync(row.Id, window, user, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}",
            window.IsRecurring ? $"freeze window '{window.Name}' added: {window.Cron} for {window.Duration} ({window.TimeZone ?? "UTC"})"
                : $"freeze window '{window.Name}' added: {window.From:u} to {window.To:u}");
        return await ToDtoAsync(row, project.Name);
    }

    public async Task RemoveFreezeAsync(Actor actor, string name, string env, long id)
    {
        var (_, row) = await FindAsync(name, env);
        if (!await environments.RemoveFreezeAsync(row.Id, id)) throw new KeyNotFoundException($"environment '{env}' has no freeze window {id}");
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}", $"freeze window {id} removed");
    }

    /// <summary>Sets a variable or a secret (write-only: encrypted with the key ring, never shown again).</summary>
    public async Task SetVariableAsync(Actor actor, string name, string env, string var, SetVariableRequest? request)
    {
        var value = ProjectVariableService.CheckValue(var, request);
        var secret = request!.Secret;
        var (_, row) = await FindAsync(name, env);
        var user = actor.User.Username;
        await environments.SetVariableAsync(row.Id, var, secret ? null : value, secret ? vault.Protect(value) : null, secret, user,
            clock.GetUtcNow().ToUnixTimeMilliseconds());
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env} var:{var}",
            $"{(secret ? "secret" : "variable")} {var} of environment '{env}' set");
    }

    public async Task DeleteVariableAsync(Actor actor, string name, string env, string var)
    {
        var (_, row) = await FindAsync(name, env);
        if (!await environments.DeleteVariableAsync(row.Id, var)) throw new KeyNotFoundException($"environment '{env}' has no variable '{var}'");
        await actor.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env} var:{var}", $"variable {var} of environment '{env}' deleted");
    }

    public async Task<(ProjectRow Project, EnvironmentRow Environment)> FindAsync(string name, string env)
    {
        var project = await projects.RequireAsync(name);
        return (project, await environments.FindAsync(project.Id, env) ?? throw NotFound(name, env));
    }

    /// <summary>The warning for an environment whose pool has no connected agent, with the two commands that start one.</summary>
    public static string NoAgentWarning(string pool) =>
        $"no agent of pool '{pool}' is connected, so deployments to this environment will wait (\"{PoolPresence.NoneConnected(pool)}\") until one is: " +
        $"create a registration token with 'slipway agent token create --pool {pool}', then start the agent where it may reach the " +
        $"environment with 'slipway agent --server URL --token TOKEN --pool {pool}'";

    private static KeyNotFoundException NotFound(string project, string env) => new($"project '{project}' has no environment '{env}'");

    public async Task<EnvironmentDto> ToDtoAsync(EnvironmentRow e, string project)
    {
        var now = clock.GetUtcNow();
        var s = e.Settings;
        var freezes = (await environments.FreezesAsync(e.Id)).Select(f =>
        {
            var until = f.Window.ActiveUntil(now);
            return new FreezeWindowDto(f.Id, f.Name, f.Cron, f.DurationSeconds, f.TimeZone, f.Window.From, f.Window.To, until is not null, until, f.CreatedBy);
        }).ToList();
        var variables = (await environments.VariablesAsync(e.Id))
            .Select(v => new EnvironmentVariableDto(v.Name, v.Secret ? null : v.Value, v.Secret, UnixMs.To(v.UpdatedAt), v.UpdatedBy)).ToList();
        return new EnvironmentDto(project, s.Name, s.Position, s.Optional, s.Pool, s.Deployers, s.RequiredApprovals, s.ApproverRole, s.AutoDeploy,
            EnvironmentSettings.QueueName(s.Queue), freezes, variables, UnixMs.To(e.UpdatedAt), e.UpdatedBy);
    }
}
