using System.CommandLine;
using Slipway.Client;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Gate;

/// <summary>
/// <c>slipway gate list|add|remove PROJECT ENV</c> (an environment's quality gates; gate.manage), <c>slipway gates PROJECT
/// VERSION --env ENV</c> (what the release still needs before it may go there) and <c>slipway signoff PROJECT VERSION --env
/// ENV --kind uat --accept|--reject --notes ...</c>. docs/gates.md.
/// </summary>
public static class GateCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var environment = new Argument<string>("environment") { Description = "The environment the gate guards, e.g. production" };
        var id = new Argument<long>("id") { Description = "Gate id (slipway gate list)" };
        var verify = new Option<string?>("--verify") { Description = "Require a passed verify step on this environment, e.g. staging" };
        var metric = new Option<string?>("--metric") { Description = "Require a metric rule, e.g. \"http_req_duration p95 < 300 ms\" or \"http_req_duration p95 <= 1.10 x baseline\"" };
        var signoff = new Option<string?>("--signoff") { Description = "Require a sign-off of this kind: uat, acceptance, exploratory, ..." };
        var measuredOn = new Option<string?>("--on") { Description = "Where the metric is measured (an environment, or ci) or the sign-off is given" };
        var by = new Option<string?>("--by") { Description = "The role a sign-off must come from, e.g. analyst" };

        var list = new Command("list", "List an environment's gates") { project, environment, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var gates = await client.ListGatesAsync(result.GetValue(project)!, result.GetValue(environment)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(gates); return 0; }
            if (gates.Count == 0) Console.WriteLine("no gates: a release may go there once the lifecycle and approvals allow");
            foreach (var g in gates) Console.WriteLine($"{g.Id,4}  {g.Description}  (added by {g.CreatedBy} {g.CreatedAt:u})");
            return 0;
        }));

        var add = new Command("add", "Add a gate: --verify ENV | --metric RULE --on ENV|ci | --signoff KIND --by ROLE [--on ENV]")
            { project, environment, verify, metric, signoff, measuredOn, by, CliContext.JsonOutput };
        add.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var kinds = new[] { result.GetValue(verify), result.GetValue(metric), result.GetValue(signoff) }.Count(v => v is not null);
            if (kinds != 1)
            {
                await Console.Error.WriteLineAsync("error: give exactly one of --verify ENV, --metric RULE (with --on ENV|ci) or --signoff KIND (with --by ROLE)");
                return 2;
            }
            var request = result.GetValue(verify) is { } v ? new GateRequest("verify", v)
                : result.GetValue(metric) is { } m ? new GateRequest("metric", result.GetValue(measuredOn), m)
                : new GateRequest("signoff", result.GetValue(measuredOn), SignOffKind: result.GetValue(signoff), Role: result.GetValue(by));
            using var client = CliContext.CreateClient(result);
            var gate = await client.AddGateAsync(result.GetValue(project)!, result.GetValue(environment)!, request, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(gate); return 0; }
            Console.WriteLine($"gate {gate.Id} added to {result.GetValue(environment)}: {gate.Description}");
            return 0;
        }));

        var remove = new Command("remove", "Remove a gate") { project, environment, id };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            // Read first, so the answer can say which gate went (the API answers a removal with no body).
            GateDto? removed = null;
            try { removed = (await client.ListGatesAsync(result.GetValue(project)!, result.GetValue(environment)!, ct)).FirstOrDefault(g => g.Id == result.GetValue(id)); }
            catch (SlipwayApiException) { } // may not read them: the removal goes on, only its answer is shorter
            await client.RemoveGateAsync(result.GetValue(project)!, result.GetValue(environment)!, result.GetValue(id), ct);
            Console.WriteLine($"gate {result.GetValue(id)} removed" + (removed is null ? "" : $": {removed.Description}"));
            return 0;
        }));
        return new Command("gate", "An environment's quality gates (verify, metric thresholds, sign-offs)") { list, add, remove };
    }

    /// <summary><c>slipway gates PROJECT VERSION --env ENV</c>: the checklist.</summary>
    public static Command Checklist()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var version = new Argument<string>("version") { Description = "Release version" };
        var env = new Option<string>("--env") { Description = "The environment the release would go to", Required = true };
        var command = new Command("gates", "Show what a release still needs before it may be deployed to an environment") { project, version, env, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var checklist = await client.GetGateChecklistAsync(result.GetValue(project)!, result.GetValue(version)!, result.GetValue(env)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(checklist);
            else Print(checklist);
            return checklist.Overall == "passed" ? 0 : 1;
        }));
        return command;
    }

    public static void Print(GateChecklistDto c)
    {
        // A release already current there is not "not ready": it is there, and the gates say whether it would get in today.
        var verdict = (c.Overall, c.CurrentThere) switch
        {
            ("passed", true) => $"{c.Release} is on {c.Environment} now, and today's gates would let it in",
            ("inconclusive", true) => $"{c.Release} is on {c.Environment} now; today's gates would hold it for an approver",
            (_, true) => $"{c.Release} is on {c.Environment} now, but today's gates would not let it in",
            ("passed", _) => $"{c.Release} is ready for {c.Environment}",
            ("inconclusive", _) => $"{c.Release} would be held for {c.Environment}: an approver must decide the inconclusive gates",
            _ => $"{c.Release} is not ready for {c.Environment}",
        };
        Console.WriteLine(c.Gates.Count == 0 && c.Rejection is null ? $"{c.Environment} has no gates" : verdict);
        if (c.Rejection is { } rejection) Console.WriteLine($"  ✘ blocked: {rejection}");
        foreach (var g in c.Gates)
            Console.WriteLine($"  {Core.Gates.GateResult.Mark(g.Outcome)} {g.Gate}: {g.Detail}");
    }

    /// <summary><c>slipway signoff PROJECT VERSION --env ENV --kind KIND --accept|--reject --notes TEXT</c>.</summary>
    public static Command SignOff()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var version = new Argument<string>("version") { Description = "Release version" };
        var env = new Option<string>("--env") { Description = "The environment the release was tried on", Required = true };
        var kind = new Option<string>("--kind") { Description = "uat, acceptance, exploratory, or another lower-case word", Required = true };
        var accept = new Option<bool>("--accept") { Description = "The release is accepted" };
        var reject = new Option<bool>("--reject") { Description = "The release is rejected (blocks its promotion; needs --notes)" };
        var notes = new Option<string?>("--notes") { Description = "What was seen (required for a rejection)" };
        var charter = new Option<string?>("--charter") { Description = "Exploratory session: what was explored" };
        var minutes = new Option<int?>("--minutes") { Description = "Exploratory session: time spent" };
        var findings = new Option<string[]>("--finding") { Description = "A finding (repeat)" };
        var file = new Option<bool>("--file-findings") { Description = "File each finding as a work item of kind bug" };
        var command = new Command("signoff", "Sign a release off (or reject it) on an environment: UAT, acceptance, exploratory testing")
            { project, version, env, kind, accept, reject, notes, charter, minutes, findings, file, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(accept) == result.GetValue(reject))
            {
                await Console.Error.WriteLineAsync("error: give exactly one of --accept or --reject");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var signed = await client.SignOffAsync(result.GetValue(project)!, result.GetValue(version)!, new SignOffRequest(result.GetValue(env), result.GetValue(kind),
                result.GetValue(accept), result.GetValue(notes), result.GetValue(charter), result.GetValue(minutes), result.GetValue(findings), result.GetValue(file)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(signed); return 0; }
            Console.WriteLine($"{signed.Kind} sign-off #{signed.Id} of {signed.Release} on {signed.Environment}: {(signed.Verdict == "accept" ? "accepted" : "rejected")} by {signed.SignedBy}");
            foreach (var key in signed.FiledItems) Console.WriteLine($"  filed {key}");
            return 0;
        }));
        return command;
    }
}
