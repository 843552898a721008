using System.CommandLine;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Check;

/// <summary>
/// <c>slipway check list|add|remove|history|health PROJECT ENV</c>: an environment's live checks (changing them needs
/// check.manage) and <c>slipway alert list|add|remove PROJECT</c>: where their alerts go. docs/live-checks.md.
/// </summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var environment = new Argument<string>("environment") { Description = "The environment checked, e.g. production" };
        var id = new Argument<long>("id") { Description = "Check id (slipway check list)" };
        var http = new Option<string?>("--http") { Description = "An HTTP check: the address to GET (http or https)" };
        var scriptFile = new Option<FileInfo?>("--script-file") { Description = "A script check: this bash script runs on the environment's pool and passes when it exits 0" };
        var releaseCheck = new Option<string?>("--release-check") { Description = "A release check: the check of this name in the current release's deploy: checks:, run on the environment's pool" };
        var expect = new Option<int?>("--expect") { Description = "The expected status. Default 200" };
        var bodyContains = new Option<string?>("--body-contains") { Description = "Text the response body must contain" };
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for an answer, at most 60s. Default 10s" };
        var every = new Option<string?>("--every") { Description = "Run every interval, e.g. 30s, 5m. Default 5m" };
        var cron = new Option<string?>("--cron") { Description = "Run by a five-field cron expression instead, e.g. \"*/5 * * * *\"" };
        var zone = new Option<string?>("--time-zone") { Description = "The cron expression's IANA time zone, e.g. Europe/Berlin. Default UTC" };
        var watch = new Option<string?>("--watch") { Description = "The watch window after each successful deployment, e.g. 15m; 0s for none. Default 15m" };
        var limit = new Option<int>("--limit") { Description = "How many results, newest first", DefaultValueFactory = _ => 20 };

        var list = new Command("list", "List an environment's live checks") { project, environment, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var checks = await client.ListChecksAsync(result.GetValue(project)!, result.GetValue(environment)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(checks); return 0; }
            if (checks.Count == 0) Console.WriteLine("no live checks");
            foreach (var c in checks)
                Console.WriteLine(c.Kind switch
                {
                    "script" => $"{c.Id,4}  {State(c.LastOk)}  script on the environment's pool, timeout {c.Timeout}, {c.Schedule}, watch {c.Watch}",
                    "release" => $"{c.Id,4}  {State(c.LastOk)}  release check '{c.ReleaseCheck}' on the environment's pool, timeout {c.Timeout}, {c.Schedule}, watch {c.Watch}",
                    _ => $"{c.Id,4}  {State(c.LastOk)}  GET {c.Url} expects {c.ExpectStatus}, {c.Schedule}, watch {c.Watch}",
                });
            return 0;
        }));

        var add = new Command("add", "Add a check: --http URL [--expect 200] [--body-contains TEXT] | --script-file FILE | --release-check NAME; [--timeout 10s] [--every 5m | --cron EXPR --time-zone ZONE] [--watch 15m]")
            { project, environment, http, scriptFile, releaseCheck, expect, bodyContains, timeout, every, cron, zone, watch, CliContext.JsonOutput };
        add.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (new object?[] { result.GetValue(http), result.GetValue(scriptFile), result.GetValue(releaseCheck) }.Count(v => v is not null) != 1)
            {
                await Console.Error.WriteLineAsync("error: give exactly one of --http URL, --script-file FILE or --release-check NAME");
                return 2;
            }
            var script = result.GetValue(scriptFile) is { } file ? await File.ReadAllTextAsync(file.FullName, ct) : null;
            using var client = CliContext.CreateClient(result);
            var check = await client.AddCheckAsync(result.GetValue(project)!, result.GetValue(environment)!, new CheckRequest(result.GetValue(http), result.GetValue(expect),
                result.GetValue(bodyContains), result.GetValue(timeout), result.GetValue(every), result.GetValue(cron), result.GetValue(zone), result.GetValue(watch),
                script is not null ? "script" : result.GetValue(releaseCheck) is not null ? "release" : null, script, result.GetValue(releaseCheck)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(check); return 0; }
            Console.WriteLine(check.Kind switch
            {
                "script" => $"check {check.Id} added to {check.Environment}: a script on its pool, {check.Schedule}, watch {check.Watch}",
                "release" => $"check {check.Id} added to {check.Environment}: the current release's check '{check.ReleaseCheck}' on its pool, {check.Schedule}, watch {check.Watch}",
                _ => $"check {check.Id} added to {check.Environment}: GET {check.Url} expects {check.ExpectStatus}, {check.Schedule}, watch {check.Watch}",
            });
            return 0;
        }));

        var remove = new Command("remove", "Remove a live check") { project, environment, id };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveCheckAsync(result.GetValue(project)!, result.GetValue(environment)!, result.GetValue(id), ct);
            Console.WriteLine($"check {result.GetValue(id)} removed");
            return 0;
        }));

        var history = new Command("history", "A check's latest results, newest first") { project, environment, id, limit, CliContext.JsonOutput };
        history.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var results = await client.GetCheckResultsAsync(result.GetValue(project)!, result.GetValue(environment)!, result.GetValue(id), result.GetValue(limit), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(results); return 0; }
            if (results.Count == 0) Console.WriteLine("not run yet");
            foreach (var r in results)
                Console.WriteLine($"{r.At:u}  {State(r.Ok)}  {r.DurationMs,6} ms  {r.Detail}{(r.Deployment is { } d ? $"  (watch window of deployment #{d})" : "")}");
            return 0;
        }));

        var health = new Command("health", "The environment's health: the latest result of each check") { project, environment, CliContext.JsonOutput };
        health.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var h = await client.GetEnvironmentHealthAsync(result.GetValue(project)!, result.GetValue(environment)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(h); return 0; }
            Console.WriteLine($"{h.Environment}: {h.Status}");
            foreach (var c in h.Checks) Console.WriteLine($"  {c.Check.Id,4}  {State(c.Latest?.Ok)}  {c.Check.Url}  {c.Latest?.Detail ?? "not run yet"}");
            return h.Status is "failing" ? 1 : 0;
        }));
        return new Command("check", "An environment's live checks (HTTP probes on a schedule; a failure in a deployment's watch window acts on its rollback policy)")
            { list, add, remove, history, health };
    }

    /// <summary><c>slipway alert list|add|remove PROJECT</c>.</summary>
    public static Command Alerts()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var id = new Argument<long>("id") { Description = "Webhook id (slipway alert list)" };
        var url = new Option<string>("--url") { Description = "The webhook's address (http or https); shown redacted afterwards", Required = true };
        var format = new Option<string?>("--format") { Description = "json (default: event, project, environment, check, release, deployment, detail, at) or slack" };
        var environment = new Option<string?>("--env") { Description = "Only this environment's alerts (default: every environment of the project)" };

        var list = new Command("list", "List the project's alert webhooks") { project, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var hooks = await client.ListAlertWebhooksAsync(result.GetValue(project)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(hooks); return 0; }
            if (hooks.Count == 0) Console.WriteLine("no alert webhooks: failing checks are only recorded and audited");
            foreach (var h in hooks)
            {
                Console.WriteLine($"{h.Id,4}  {h.Format,-5}  {h.Url}  {h.Environment ?? "all environments"}  (added by {h.CreatedBy})");
                if (h.LastDelivery is { } d) Console.WriteLine($"      last alert: {d.Event} {LastDeliveryText(d)}");
            }
            return 0;
        }));

        var add = new Command("add", "Send live-check alerts to a webhook") { project, url, format, environment, CliContext.JsonOutput };
        add.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var hook = await client.AddAlertWebhookAsync(result.GetValue(project)!,
                new AlertWebhookRequest(result.GetValue(url), result.GetValue(format), result.GetValue(environment)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(hook); return 0; }
            Console.WriteLine($"alert webhook {hook.Id} added ({hook.Format}, {hook.Url})");
            return 0;
        }));

        var remove = new Command("remove", "Remove an alert webhook") { project, id };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveAlertWebhookAsync(result.GetValue(project)!, result.GetValue(id), ct);
            Console.WriteLine($"alert webhook {result.GetValue(id)} removed");
            return 0;
        }));
        return new Command("alert", "Where a project's live-check alerts go (webhooks, json or slack)") { list, add, remove };
    }

    /// <summary>"delivered at 10:02:03 UTC (attempt 2)", "pending, attempt 3 failed: answered 500", ...</summary>
    internal static string LastDeliveryText(AlertDeliveryDto d)
    {
        var at = (d.FinishedAt ?? d.QueuedAt).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");
        var attempts = d.Attempts == 1 ? "1 attempt" : $"{d.Attempts} attempts";
        return d.Status switch
        {
            "pending" when d.Attempts == 0 => $"queued at {at}, not attempted yet",
            "pending" => $"pending since {at}, {attempts} so far, last: {d.LastError ?? "under way"}",
            "delivered" => $"delivered at {at} ({attempts})",
            _ => $"{d.Status} at {at} ({attempts}){(d.LastError is { } e ? $": {e}" : "")}",
        };
    }

    private static string State(bool? ok) => ok switch { true => "ok  ", false => "FAIL", null => "-   " };
}
