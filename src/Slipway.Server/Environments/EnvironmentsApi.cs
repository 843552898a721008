using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Environments;
using Slipway.Core.Secrets;

namespace Slipway.Server.Environments;

/// <summary>
/// Environments of a project (/api/v1/projects/{name}/environments[/{env}[/freezes|/variables]]): server-side
/// configuration, changed only with env.manage and audited. Secret values are write-only.
/// </summary>
public static class EnvironmentsApi
{
    public static void MapEnvironmentsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/environments", ListAsync).RequireAction(Actions.EnvironmentRead);
        api.MapPost("/projects/{name}/environments", (string name, EnvironmentRequest? request, HttpContext context, ProjectStore projects,
            EnvironmentStore environments, TimeProvider clock, PoolPresence presence) => SaveAsync(name, null, request, context, projects, environments, clock, presence))
            .RequireAction(Actions.EnvironmentManage);
        api.MapGet("/projects/{name}/environments/{env}", ShowAsync).RequireAction(Actions.EnvironmentRead);
        api.MapPatch("/projects/{name}/environments/{env}", (string name, string env, EnvironmentRequest? request, HttpContext context, ProjectStore projects,
            EnvironmentStore environments, TimeProvider clock, PoolPresence presence) => SaveAsync(name, env, request, context, projects, environments, clock, presence))
            .RequireAction(Actions.EnvironmentManage);
        api.MapPost("/projects/{name}/environments/{env}/freezes", AddFreezeAsync).RequireAction(Actions.EnvironmentManage);
        api.MapDelete("/projects/{name}/environments/{env}/freezes/{id}", RemoveFreezeAsync).RequireAction(Actions.EnvironmentManage);
        api.MapPut("/projects/{name}/environments/{env}/variables/{var}", SetVariableAsync).RequireAction(Actions.EnvironmentManage);
        api.MapDelete("/projects/{name}/environments/{env}/variables/{var}", DeleteVariableAsync).RequireAction(Actions.EnvironmentManage);
    }

    public static async Task<IReadOnlyList<EnvironmentDto>> ListAsync(string name, ProjectStore projects, EnvironmentStore environments, TimeProvider clock)
    {
        var project = await ProjectsApi.Find(projects, name);
        var list = new List<EnvironmentDto>();
        foreach (var e in await environments.ListAsync(project.Id)) list.Add(await ToDtoAsync(e, project.Name, environments, clock));
        return list;
    }

    public static async Task<EnvironmentDto> ShowAsync(string name, string env, ProjectStore projects, EnvironmentStore environments, TimeProvider clock)
    {
        var (project, row) = await FindAsync(name, env, projects, environments);
        return await ToDtoAsync(row, project.Name, environments, clock);
    }

    /// <summary>
    /// Creates (env null) or changes an environment; the web forms call it too, so checks and audit are the same. When no agent
    /// of its pool is connected, the answer carries a warning (the environment is saved all the same: the agent may come later),
    /// so a deployment that would only wait is not a surprise.
    /// </summary>
    public static async Task<IResult> SaveAsync(string name, string? env, EnvironmentRequest? request, HttpContext context, ProjectStore projects,
        EnvironmentStore environments, TimeProvider clock, PoolPresence presence)
    {
        if (request is null) throw new ArgumentException("the body must describe the environment: name, position, pool, ...");
        var project = await ProjectsApi.Find(projects, name);
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
        var user = context.RequireUser().Username;
        if (!await environments.SaveAsync(project.Id, settings, create, user, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw create ? new ConflictException($"project '{name}' already has an environment '{settings.Name}'") : NotFound(name, settings.Name);
        await context.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{settings.Name}",
            $"environment '{settings.Name}' {(create ? "created" : "changed")}: position {settings.Position}{(settings.Optional ? " (optional)" : "")}, pool {settings.Pool}, " +
            $"deployers [{string.Join(", ", settings.Deployers)}], {settings.RequiredApprovals} approval{(settings.RequiredApprovals == 1 ? "" : "s")}{(settings.ApproverRole is { } r ? $" by {r}" : "")}, " +
            $"auto-deploy {(settings.AutoDeploy ? "on" : "off")}, queue {EnvironmentSettings.QueueName(settings.Queue)}");
        var dto = await ToDtoAsync((await environments.FindAsync(project.Id, settings.Name))!, project.Name, environments, clock);
        if ((create || settings.Pool != current?.Pool) && !await presence.HasAgentAsync(settings.Pool))
            dto = dto with { Warnings = [NoAgentWarning(settings.Pool)] };
        return create ? Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{settings.Name}", dto) : Results.Ok(dto);
    }

    public static async Task<IResult> AddFreezeAsync(string name, string env, FreezeWindowRequest? request, HttpContext context, ProjectStore projects,
        EnvironmentStore environments, TimeProvider clock)
    {
        if (request is null) throw new ArgumentException("the body must be {name, cron, duration, timeZone} or {name, from, to}");
        TimeSpan? duration = null;
        if (request.Duration is { } text)
            duration = Core.Pipelines.Durations.TryParsePositive(text, FreezeWindow.MaxDuration, out var d, out var e) ? d : throw new ArgumentException(e);
        var window = new FreezeWindow(request.Name ?? "", request.Cron, duration, request.TimeZone, request.From, request.To);
        if (window.Check() is { } error) throw new ArgumentException(error);
        var (project, row) = await FindAsync(name, env, projects, environments);
        var user = context.RequireUser().Username;
        var id = await environments.AddFreezeAsync(row.Id, window, user, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await context.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}",
            window.IsRecurring ? $"freeze window '{window.Name}' added: {window.Cron} for {window.Duration} ({window.TimeZone ?? "UTC"})"
                : $"freeze window '{window.Name}' added: {window.From:u} to {window.To:u}");
        return Results.Created($"/api/v1/projects/{Uri.EscapeDataString(name)}/environments/{env}", await ToDtoAsync(row, project.Name, environments, clock));
    }

    public static async Task<IResult> RemoveFreezeAsync(string name, string env, long id, HttpContext context, ProjectStore projects, EnvironmentStore environments)
    {
        var (_, row) = await FindAsync(name, env, projects, environments);
        if (!await environments.RemoveFreezeAsync(row.Id, id)) throw new KeyNotFoundException($"environment '{env}' has no freeze window {id}");
        await context.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}", $"freeze window {id} removed");
        return Results.NoContent();
    }

    public static async Task<IResult> SetVariableAsync(string name, string env, string var, SetVariableRequest? request, HttpContext context,
        ProjectStore projects, EnvironmentStore environments, SecretVault vault, TimeProvider clock)
    {
        var value = VariablesApi.CheckValue(var, request);
        var secret = request!.Secret;
        var (_, row) = await FindAsync(name, env, projects, environments);
        var user = context.RequireUser().Username;
        await environments.SetVariableAsync(row.Id, var, secret ? null : value, secret ? vault.Protect(value) : null, secret, user,
            clock.GetUtcNow().ToUnixTimeMilliseconds());
        await context.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env} var:{var}",
            $"{(secret ? "secret" : "variable")} {var} of environment '{env}' set");
        return Results.Ok(new { project = name, environment = env, name = var, secret });
    }

    public static async Task<IResult> DeleteVariableAsync(string name, string env, string var, HttpContext context, ProjectStore projects, EnvironmentStore environments)
    {
        var (_, row) = await FindAsync(name, env, projects, environments);
        if (!await environments.DeleteVariableAsync(row.Id, var)) throw new KeyNotFoundException($"environment '{env}' has no variable '{var}'");
        await context.AuditAsync(Actions.EnvironmentManage, AuditOutcomes.Succeeded, $"project:{name} env:{env} var:{var}", $"variable {var} of environment '{env}' deleted");
        return Results.NoContent();
    }

    public static async Task<(ProjectRow Project, EnvironmentRow Environment)> FindAsync(string name, string env, ProjectStore projects, EnvironmentStore environments)
    {
        var project = await ProjectsApi.Find(projects, name);
        return (project, await environments.FindAsync(project.Id, env) ?? throw NotFound(name, env));
    }

    /// <summary>The warning for an environment whose pool has no connected agent, with the two commands that start one.</summary>
    public static string NoAgentWarning(string pool) =>
        $"no agent of pool '{pool}' is connected, so deployments to this environment will wait (\"{PoolPresence.NoneConnected(pool)}\") until one is: " +
        $"create a registration token with 'slipway agent token create --pool {pool}', then start the agent where it may reach the " +
        $"environment with 'slipway agent --server URL --token TOKEN --pool {pool}'";

    private static KeyNotFoundException NotFound(string project, string env) => new($"project '{project}' has no environment '{env}'");

    public static async Task<EnvironmentDto> ToDtoAsync(EnvironmentRow e, string project, EnvironmentStore environments, TimeProvider clock)
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
