using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Deploy;

/// <summary>
/// <c>slipway deploy PROJECT VERSION --to ENV</c>, <c>slipway promote PROJECT --to ENV</c>, <c>slipway approve PROJECT N</c>,
/// <c>slipway reject PROJECT N --reason</c>, <c>slipway rollback PROJECT --env ENV [--to VERSION]</c>,
/// <c>slipway deployment list|show|cancel|export</c> and <c>slipway status PROJECT</c> (the environment matrix).
/// A refusal prints the server's message naming each rule and exits 1.
/// </summary>
public static class DeployCommands
{
    private static readonly Argument<string> Project = new("project") { Description = "Project name" };
    private static readonly Argument<long> Number = new("deployment") { Description = "Deployment number (see deployment list)" };
    private static readonly Option<string?> Emergency = new("--emergency-reason") { Description = "Break-glass holders: deploy during a freeze, with this reason (flagged)" };

    public static IEnumerable<Command> Create()
    {
        var version = new Argument<string>("version") { Description = "Release version" };
        var to = new Option<string>("--to") { Description = "Target environment", Required = true };
        var deploy = new Command("deploy", "Deploy a release to an environment") { Project, version, to, Emergency, CliContext.JsonOutput };
        deploy.SetAction((r, ct) => Print(r, c => c.DeployAsync(r.GetValue(Project)!, r.GetValue(version)!, r.GetValue(to)!, r.GetValue(Emergency), ct)));

        var promote = new Command("promote", "Promote the release currently on the previous environment of the lifecycle") { Project, to, Emergency, CliContext.JsonOutput };
        promote.SetAction((r, ct) => Print(r, c => c.PromoteAsync(r.GetValue(Project)!, r.GetValue(to)!, r.GetValue(Emergency), ct)));

        var comment = new Option<string?>("--comment") { Description = "Comment" };
        var approve = new Command("approve", "Approve a deployment awaiting approval") { Project, Number, comment, CliContext.JsonOutput };
        approve.SetAction((r, ct) => Print(r, c => c.ApproveDeploymentAsync(r.GetValue(Project)!, r.GetValue(Number), r.GetValue(comment), ct)));

        var reason = new Option<string>("--reason") { Description = "Why", Required = true };
        var reject = new Command("reject", "Reject a deployment awaiting approval") { Project, Number, reason, CliContext.JsonOutput };
        reject.SetAction((r, ct) => Print(r, c => c.RejectDeploymentAsync(r.GetValue(Project)!, r.GetValue(Number), r.GetValue(reason)!, ct)));

        var env = new Option<string?>("--env") { Description = "The environment to roll back (required)" };
        var toVersion = new Option<string?>("--to") { Description = "Release to return to (default: the one before the current)" };
        var rollback = new Command("rollback", "Redeploy an earlier successful release of an environment (recorded as a rollback)") { Project, env, toVersion, Emergency, CliContext.JsonOutput };
        rollback.SetAction(async (r, ct) =>
        {
            // Checked here rather than by the parser: deploy and promote name the environment with --to, so a user typing
            // "rollback shop --to production" needs this sentence, not the whole help.
            if (string.IsNullOrWhiteSpace(r.GetValue(env)))
            {
                await Console.Error.WriteLineAsync($"error: name the environment with --env (here --to is the release to return to): " +
                                                   $"slipway rollback {r.GetValue(Project)} --env {r.GetValue(toVersion) ?? "production"} [--to VERSION]");
                return 2;
            }
            return await Print(r, c => c.RollbackAsync(r.GetValue(Project)!, r.GetValue(env)!, r.GetValue(toVersion), r.GetValue(Emergency), ct));
        });

        var status = new Command("status", "The project × environment matrix: what is where, what is queued or awaiting approval") { Project, CliContext.JsonOutput };
        status.SetAction((r, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(r);
            var dashboard = await client.GetDashboardAsync(r.GetValue(Project)!, ct);
            if (r.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(dashboard); return 0; }
            if (dashboard.Environments.Count == 0)
            {
                Console.WriteLine($"{dashboard.Project} has no environments yet: slipway env create {dashboard.Project} staging --pool deploy");
                return 0;
            }
            var table = new TextTable("ENVIRONMENT", "RELEASE", "SINCE (UTC)", "BY", "LATEST DEPLOYMENT", "NOTES");
            foreach (var cell in dashboard.Environments)
            {
                var cur = cell.Current;
                // The latest deployment only when it is not the current one; the counts of what waits beside it.
                var latest = cell.Latest is { } l && l.Number != cur?.Number ? $"#{l.Number} {l.Release} ({l.State.Replace('_', ' ')})" : "";
                var notes = string.Join(", ", new[]
                {
                    cell.Queued > 0 ? $"{cell.Queued} queued" : null, cell.AwaitingApproval > 0 ? $"{cell.AwaitingApproval} awaiting approval" : null,
                    cell.FrozenBy is { } f ? $"FROZEN ({f}) until {cell.FrozenUntil:u}" : null, cur?.EmergencyReason is not null ? "EMERGENCY" : null,
                }.Where(x => x is not null));
                table.Add(cell.Environment, cur?.Release, cur?.FinishedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), cur?.Initiator, latest, notes);
            }
            table.WriteToConsole();
            return 0;
        }));

        return [deploy, promote, approve, reject, rollback, status, Deployment()];
    }

    private static Command Deployment()
    {
        var env = new Option<string?>("--env") { Description = "Only this environment" };
        var list = new Command("list", "A project's deployments, newest first") { Project, env, CliContext.JsonOutput };
        list.SetAction((r, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(r);
            var all = await client.ListDeploymentsAsync(r.GetValue(Project)!, r.GetValue(env), ct);
            if (r.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(all); return 0; }
            foreach (var d in all) Console.WriteLine(Line(d));
            return 0;
        }));
        var targets = new Option<bool>("--targets") { Description = "List every target of a rolling deployment: batch, state, load-balancer state, reason" };
        var show = new Command("show", "Show a deployment: release, approvals, outcome, artifacts, targets") { Project, Number, targets, CliContext.JsonOutput };
        show.SetAction((r, ct) => Print(r, c => c.GetDeploymentAsync(r.GetValue(Project)!, r.GetValue(Number), ct), r.GetValue(targets)));
        var cancel = new Command("cancel", "Cancel a deployment (a running one is stopped through its run)") { Project, Number, CliContext.JsonOutput };
        cancel.SetAction((r, ct) => Print(r, c => c.CancelDeploymentAsync(r.GetValue(Project)!, r.GetValue(Number), ct)));
        var format = new Option<string>("--format") { Description = "csv or json", DefaultValueFactory = _ => "csv" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Requested at or after (ISO 8601)" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Requested before (ISO 8601)" };
        var export = new Command("export", "Write the deployment evidence for an auditor") { Project, env, from, to, format };
        export.SetAction((r, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(r);
            Console.Write(await client.ExportDeploymentsAsync(r.GetValue(Project)!, r.GetValue(env), r.GetValue(from), r.GetValue(to), r.GetValue(format)!, ct));
            return 0;
        }));
        var repair = new Command("repair", "Put back in rotation the targets a rolling deployment left out of it (after you have looked at them)")
        {
            Project, Number, CliContext.JsonOutput,
        };
        repair.SetAction((r, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(r);
            var repaired = await client.RepairDeploymentAsync(r.GetValue(Project)!, r.GetValue(Number), ct);
            if (r.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(repaired); return 0; }
            Console.WriteLine($"repair of deployment #{repaired.Deployment} started as run {repaired.RunId}: {string.Join(", ", repaired.Targets)} " +
                              $"go back to ready on {repaired.Environment}'s load balancers (slipway deployment show {repaired.Project} {repaired.Deployment} --targets)");
            return 0;
        }));
        var targetName = new Argument<string>("target") { Description = "The paused target, e.g. web-3" };
        var decision = new Argument<string>("decision") { Description = "retry (its whole procedure again), skip (it stays out of rotation, the rollout goes on) or abort" };
        decision.AcceptOnlyFromAmong("retry", "skip", "abort");
        var decide = new Command("decide", "on_failure: pause — decide for one paused target of a running deployment: retry, skip or abort")
        {
            Project, Number, targetName, decision, CliContext.JsonOutput,
        };
        decide.SetAction((r, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(r);
            var t = await client.DecideTargetAsync(r.GetValue(Project)!, r.GetValue(Number), r.GetValue(targetName)!, r.GetValue(decision)!, ct);
            if (r.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(t); return 0; }
            Console.WriteLine($"{r.GetValue(decision)} of {t.Target} recorded; the deploy agent takes it up within seconds (slipway deployment show " +
                              $"{r.GetValue(Project)} {r.GetValue(Number)} --targets)");
            return 0;
        }));
        return new Command("deployment", "Deployments: list, show, cancel, decide, repair, evidence export") { list, show, cancel, decide, repair, export };
    }

    private static Task<int> Print(ParseResult r, Func<Client.SlipwayClient, Task<DeploymentDto>> call, bool allTargets = false) => CliContext.GuardAsync(async () =>
    {
        using var client = CliContext.CreateClient(r);
        var d = await call(client);
        if (r.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(d); return 0; }
        Console.WriteLine(Line(d));
        foreach (var a in d.Approvals) Console.WriteLine($"  {a.Verdict} by {a.Approver} {a.At:u}{(a.Comment.Length > 0 ? ": " + a.Comment : "")}");
        if (d.PreviousRelease is { } previous) Console.WriteLine($"  replacing: {previous}");
        if (d.RollbackOf is { } of) Console.WriteLine($"  rollback after deployment #{of} failed");
        if (d.Waiting is { } waiting) Console.WriteLine($"  {waiting}");
        if (d.Outcome is not null) Console.WriteLine($"  outcome: {d.Outcome}");
        if (d.RunId is { } run) Console.WriteLine($"  run: {run} (slipway logs {run} --job deploy)");
        foreach (var a in d.Artifacts) Console.WriteLine($"  artifact {a.Sha256}  {a.Path}");
        PrintTargets(d.Targets ?? [], allTargets);
        if ((d.Targets ?? []).Where(t => t.BalancerState is "drain" or "maint").ToList() is { Count: > 0 } outOfRotation)
            Console.WriteLine($"  out of rotation: {string.Join(", ", outOfRotation.Select(t => $"{t.Target} ({t.BalancerState})"))}; after a look, " +
                              $"'slipway deployment repair {d.Project} {d.Number}' puts them back");
        return 0;
    });

    /// <summary>A rolling deployment's targets: a count per state, and with --targets (or when one failed) one line each.</summary>
    private static void PrintTargets(IReadOnlyList<DeploymentTargetDto> targets, bool all)
    {
        if (targets.Count == 0) return;
        Console.WriteLine($"  targets: {string.Join(", ", targets.GroupBy(t => t.State).Select(g => $"{g.Count()} {g.Key}"))}" +
                          (all ? "" : " (--targets for each)"));
        var width = Math.Max(6, targets.Max(t => t.Target.Length));
        foreach (var t in targets.Where(t => all || t.State is "failed" or "unknown"))
        {
            var took = t.StartedAt is { } s && t.FinishedAt is { } f ? $"{(f - s).TotalSeconds,5:0.0}s" : "      ";
            Console.WriteLine($"    batch {t.Batch,-3} {t.Target.PadRight(width)}  {t.State,-10} {took}  lb {t.BalancerState ?? "-",-6}" +
                              (t.Reason is { } reason ? $"  {t.Step}: {reason}" : t.State is "succeeded" or "pending" or "not-run" ? "" : $"  {t.Step}"));
        }
    }

    private static string Line(DeploymentDto d) =>
        $"#{d.Number,-4} {d.Environment,-12} {d.Release,-12} {d.Kind,-8} {d.State,-17} by {d.Initiator} {d.RequestedAt:u}" +
        (d.PreviousRelease is { } p ? $"  replacing {p}" : "") +
        (d.RollbackOf is { } of ? $"  after #{of} failed" : "") +
        (d.Waiting is { } w ? $"  {w}" : "") +
        (d.EmergencyReason is { } e ? $"  EMERGENCY: {e}" : "") +
        (d.State == "rejected" && d.Approvals.LastOrDefault(a => a.Verdict == "reject") is { } r ? $"  rejected by {r.Approver}" : "");
}
