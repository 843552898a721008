using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Checks;
using Slipway.Core.Pipelines;

namespace Slipway.Server.Checks;

/// <summary>
/// Live checks and alert webhooks as configured by people: each environment's checks (server-side, audited;
/// <see cref="ChecksApi"/> checked check.manage), their history and the environment's health, and where a project's
/// alerts go. The checks themselves are run by <see cref="LiveCheckRunner"/>.
/// </summary>
public sealed class CheckService(ProjectStore projects, EnvironmentStore environments, CheckStore checks, AlertWebhookStore webhooks, AlertDeliveryStore deliveries, SecretVault vault,
    TimeProvider clock)
{
    /// <summary>
    /// Whether a reader sees a check's whole address and script: only who may manage checks. A health URL may carry a
    /// token and a script the names of secrets; everyone else sees the address redacted to scheme, host and port.
    /// </summary>
    public static bool SeesWhole(Principal.User user) => user.Permissions.Can(Actions.CheckManage);

    public async Task<IReadOnlyList<CheckDto>> ListAsync(string name, string env, bool whole = false)
    {
        var (_, environment) = await FindAsync(name, env);
        return (await checks.ListAsync(environment.Id)).Select(c => ToDto(c, whole)).ToList();
    }

    public async Task<CheckDto> AddAsync(Actor actor, string name, string env, CheckRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must describe the check: url, expectStatus, bodyContains, timeout, every or cron, timeZone, watch");
        var kind = Clean(request.Kind) ?? (request.Script is not null ? "script" : request.ReleaseCheck is not null ? "release" : "http");
        if (kind is not ("http" or "script" or "release")) throw new ArgumentException($"'{kind}' is not a check kind: http, script or release");
        var releaseCheck = kind == "release" ? Clean(request.ReleaseCheck) : null;
        if (kind == "release" && (releaseCheck is null || releaseCheck.Length > 64 || !releaseCheck.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            throw new ArgumentException("a release check names a check of the release's pipeline file (deploy: checks: - name: NAME), e.g. --release-check smoke");
        var url = kind == "http" ? Clean(request.Url) : "";
        var timeout = Duration(request.Timeout, "timeout") ?? (kind == "http" ? HttpCheckRules.DefaultTimeout : ScriptCheckRules.DefaultTimeout);
        var watch = Duration(request.Watch, "watch") ?? HttpCheckRules.DefaultWatch;
        var schedule = new CheckSchedule(Duration(request.Every, "every"), Clean(request.Cron), Clean(request.TimeZone));
        if (schedule is { Every: null, Cron: null }) schedule = schedule with { Every = TimeSpan.FromMinutes(5) };
        var expect = request.ExpectStatus ?? 200;
        var body = request.BodyContains is { Length: > 0 } b ? b : null;
        var script = kind == "script" ? request.Script?.Replace("\r\n", "\n") : null;
        var invalid = kind switch
        {
            "script" => ScriptCheckRules.Check(script, timeout, watch),
            "release" => ScriptCheckRules.Check("(from the release)", timeout, watch),
            _ => HttpCheckRules.Check(url, expect, body, timeout, watch),
        };
        if ((invalid ?? schedule.Check()) is { } error) throw new ArgumentException(error);
        var (_, environment) = await FindAsync(name, env);
        if ((await checks.ListAsync(environment.Id)).Count >= CheckStore.PerEnvironmentLimit)
            throw new ConflictException($"environment '{env}' has {CheckStore.PerEnvironmentLimit} checks already; remove one first");
        var id = await checks.AddAsync(environment.Id, kind, url!, expect, body, timeout, schedule, watch, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds(),
            script, releaseCheck);
        var row = (await checks.GetAsync(id))!;
        await actor.AuditAsync(Actions.CheckManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}",
            $"check {id} added to '{env}': {Describe(row)}");
        return ToDto(row);
    }

    public async Task RemoveAsync(Actor actor, string name, string env, long id)
    {
        var (_, environment) = await FindAsync(name, env);
        var row = await RequireCheckAsync(environment, name, id);
        if (!await checks.RemoveAsync(environment.Id, id)) throw new KeyNotFoundException($"environment '{env}' of '{name}' has no check {id}");
        await actor.AuditAsync(Actions.CheckManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}", $"check {id} removed from '{env}': {Describe(row)}");
    }

    public async Task<IReadOnlyList<CheckResultDto>> ResultsAsync(string name, string env, long id, int? limit)
    {
        var (_, environment) = await FindAsync(name, env);
        await RequireCheckAsync(environment, name, id);
        return (await checks.ResultsAsync(id, Math.Clamp(limit ?? 100, 1, CheckStore.HistoryLimit))).Select(ToDto).ToList();
    }

    /// <summary>The environment's health for the dashboard: the latest result of each check.</summary>
    public async Task<EnvironmentHealthDto> HealthAsync(string name, string env, bool whole = false) =>
        (await HealthWithRecentAsync(name, env, whole, 1)).Health;

    /// <summary>The environment's health, and the latest <paramref name="recent"/> results of each check that has run (newest first).</summary>
    public async Task<(EnvironmentHealthDto Health, IReadOnlyDictionary<long, IReadOnlyList<CheckResultDto>> Recent)> HealthWithRecentAsync(
        string name, string env, bool whole, int recent)
    {
        var (project, environment) = await FindAsync(name, env);
        var all = await checks.ListAsync(environment.Id);
        var results = await checks.LatestResultsAsync(all.Select(c => c.Id).ToList(), Math.Clamp(recent, 1, CheckStore.HistoryLimit));
        var list = new List<CheckHealthDto>();
        var byCheck = new Dictionary<long, IReadOnlyList<CheckResultDto>>();
        foreach (var check in all)
        {
            var latest = results.TryGetValue(check.Id, out var rows) ? rows.Select(ToDto).ToList() : [];
            list.Add(new CheckHealthDto(ToDto(check, whole), latest.FirstOrDefault()));
            if (latest.Count > 0) byCheck[check.Id] = latest;
        }
        var status = list.Count == 0 ? "none"
            : list.Any(c => c.Latest is { Ok: false }) ? "failing"
            : list.Any(c => c.Latest is null) ? "unknown" : "healthy";
        return (new EnvironmentHealthDto(project.Name, environment.Name, status, list), byCheck);
    }

    /// <summary>The project's alert webhooks, or with <paramref name="env"/> those that get that environment's alerts; each with its latest delivery.</summary>
    public async Task<IReadOnlyList<AlertWebhookDto>> WebhooksAsync(string name, string? env = null)
    {
        IReadOnlyList<AlertWebhookRow> list;
        if (env is null) list = await webhooks.ListAsync((await projects.RequireAsync(name)).Id);
        else
        {
            var (project, environment) = await FindAsync(name, env);
            list = await webhooks.ForAsync(project.Id, environment.Id);
        }
        var latest = await deliveries.LatestAsync(list.Select(w => w.Id).ToList());
        return list.Select(w => ToDto(w) with { LastDelivery = latest.TryGetValue(w.Id, out var d) ? ToDto(d) : null }).ToList();
    }

    public async Task<AlertWebhookDto> AddWebhookAsync(Actor actor, string name, AlertWebhookRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must name the webhook: url, format (json or slack), environment (optional)");
        var url = Clean(request.Url);
        if (HttpCheckRules.CheckUrl(url, "a webhook's url") is { } error) throw new ArgumentException(error);
        var format = Clean(request.Format) ?? AlertPayload.Json;
        if (!AlertPayload.Formats.Contains(format)) throw new ArgumentException($"'{format}' is not an alert format: {string.Join(", ", AlertPayload.Formats)}");
        var project = await projects.RequireAsync(name);
        long? environmentId = null;
        if (Clean(request.Environment) is { } env)
            environmentId = (await environments.FindAsync(project.Id, env) ?? throw new KeyNotFoundException($"project '{name}' has no environment '{env}'")).Id;
        var shown = HttpCheckRules.Redact(url!);
        var id = await webhooks.AddAsync(project.Id, environmentId, vault.Protect(url!), shown, format, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds());
        // The address is never written to the audit log whole: a Slack webhook's path is its secret.
        await actor.AuditAsync(Actions.CheckManage, AuditOutcomes.Succeeded, $"project:{name}",
            $"alert webhook {id} added ({format}, {shown}{(request.Environment is { } e ? $", environment '{e}' only" : "")})");
        return ToDto((await webhooks.ListAsync(project.Id)).Single(w => w.Id == id));
    }

    public async Task RemoveWebhookAsync(Actor actor, string name, long id)
    {
        var project = await projects.RequireAsync(name);
        var row = (await webhooks.ListAsync(project.Id)).FirstOrDefault(w => w.Id == id) ?? throw new KeyNotFoundException($"project '{name}' has no alert webhook {id}");
        if (!await webhooks.RemoveAsync(project.Id, id)) throw new KeyNotFoundException($"project '{name}' has no alert webhook {id}");
        await actor.AuditAsync(Actions.CheckManage, AuditOutcomes.Succeeded, $"project:{name}", $"alert webhook {id} removed ({row.Format}, {row.UrlShown})");
    }

    private async Task<CheckRow> RequireCheckAsync(EnvironmentRow environment, string name, long id) =>
        (await checks.ListAsync(environment.Id)).FirstOrDefault(c => c.Id == id)
        ?? throw new KeyNotFoundException($"environment '{environment.Name}' of '{name}' has no check {id}");

    private async Task<(ProjectRow, EnvironmentRow)> FindAsync(string name, string env)
    {
        var project = await projects.RequireAsync(name);
        var environment = await environments.FindAsync(project.Id, env) ?? throw new KeyNotFoundException($"project '{name}' has no environment '{env}'");
        return (project, environment);
    }

    private static string Describe(CheckRow c) => c.Kind switch
    {
        "script" => $"script of {c.Script!.Length} characters on the environment's pool, timeout {Durations.Format(c.Timeout)}, {c.Schedule.Describe()}, watch {Durations.Format(c.Watch)}",
        "release" => $"the current release's check '{c.ReleaseCheck}' on the environment's pool, timeout {Durations.Format(c.Timeout)}, {c.Schedule.Describe()}, watch {Durations.Format(c.Watch)}",
        _ => DescribeHttp(c),
    };

    private static string DescribeHttp(CheckRow c) =>
        $"GET {HttpCheckRules.Redact(c.Url)} expects {c.ExpectStatus}{(c.BodyContains is null ? "" : " and body text")}, timeout {Durations.Format(c.Timeout)}, " +
        $"{c.Schedule.Describe()}, watch {Durations.Format(c.Watch)}";

    public static CheckDto ToDto(CheckRow c, bool whole = true) => new(c.Id, c.Environment, c.Kind,
        whole || c.Kind != "http" ? c.Url : HttpCheckRules.Redact(c.Url), c.ExpectStatus, c.BodyContains, Durations.Format(c.Timeout),
        c.Schedule.Describe(), c.EverySeconds is { } s ? Durations.Format(TimeSpan.FromSeconds(s)) : null, c.Cron, c.TimeZone, Durations.Format(c.Watch),
        c.CreatedBy, c.Created, c.LastRun, c.LastOk, whole ? c.Script : null, c.ReleaseCheck);

    private static CheckResultDto ToDto(CheckResultRow r) => new(r.Id, r.CheckId, DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.Ok, r.StatusCode, r.DurationMs,
        r.Detail, r.DeploymentNumber);

    private static AlertDeliveryDto ToDto(AlertDeliveryRow d) =>
        new(d.Event, d.Status, d.Attempts, d.LastError, DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedAt), UnixMs.To(d.FinishedAt));

    private static AlertWebhookDto ToDto(AlertWebhookRow w) => new(w.Id, w.Environment, w.UrlShown, w.Format, w.CreatedBy, DateTimeOffset.FromUnixTimeMilliseconds(w.CreatedAt));

    private static TimeSpan? Duration(string? text, string what)
    {
        if (Clean(text) is not { } t) return null;
        if (t == "0") return TimeSpan.Zero;
        return Durations.TryParse(t, out var value) ? value : throw new ArgumentException($"'{what}': invalid duration '{t}'; use 30s, 5m, 1h or 1h30m");
    }

    private static string? Clean(string? text)
    {
        var t = text?.Trim();
        if (t is { Length: > 0 } && t.Any(char.IsControl)) throw new ArgumentException("a value contains a control character");
        return string.IsNullOrEmpty(t) ? null : t;
    }
}
