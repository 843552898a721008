using System.CommandLine;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Deploy;

/// <summary>
/// <c>slipway env create|list|show|edit PROJECT NAME</c>, <c>slipway env freeze add|remove</c>, <c>slipway env var set</c>:
/// environments are server-side configuration (admins: env.manage), never read from a branch's pipeline file.
/// </summary>
public static class EnvCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var name = new Argument<string>("environment") { Description = "Environment name, e.g. staging" };
        var position = new Option<int?>("--position") { Description = "Order in the lifecycle (0 first)" };
        var optional = new Option<bool?>("--optional") { Description = "May be skipped on the way to a later environment" };
        var pool = new Option<string?>("--pool") { Description = "Agent pool that deploys here (default: deploy)" };
        var deployers = new Option<string[]>("--deployer") { Description = "role:NAME or user:NAME allowed to deploy here (repeat); none: anyone with deployment.start", AllowMultipleArgumentsPerToken = true };
        var approvals = new Option<int?>("--approvals") { Description = "Distinct approvals required before a deployment starts" };
        var approverRole = new Option<string?>("--approver-role") { Description = "Role approvers must hold" };
        var autoDeploy = new Option<bool?>("--auto-deploy") { Description = "New releases deploy here by themselves" };
        var queue = new Option<string?>("--queue") { Description = "oldest-first (default) or newest-wins" };

        EnvironmentRequest Request(ParseResult r, string? envName) => new(envName, r.GetValue(position), r.GetValue(optional), r.GetValue(pool),
            r.GetValue(deployers) is { Length: > 0 } d ? d : null, r.GetValue(approvals), r.GetValue(approverRole), r.GetValue(autoDeploy), r.GetValue(queue));

        var create = new Command("create", "Create an environment") { project, name, position, optional, pool, deployers, approvals, approverRole, autoDeploy, queue, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var env = await client.CreateEnvironmentAsync(result.GetValue(project)!, Request(result, result.GetValue(name)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(env); return 0; }
            Console.WriteLine($"created environment {Describe(env)}");
            foreach (var warning in env.Warnings ?? []) await Console.Error.WriteLineAsync($"warning: {warning}");
            return 0;
        }));
        var edit = new Command("edit", "Change an environment's settings") { project, name, position, optional, pool, deployers, approvals, approverRole, autoDeploy, queue, CliContext.JsonOutput };
        edit.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var env = await client.EditEnvironmentAsync(result.GetValue(project)!, result.GetValue(name)!, Request(result, null), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(env); return 0; }
            Console.WriteLine($"changed environment {Describe(env)}");
            foreach (var warning in env.Warnings ?? []) await Console.Error.WriteLineAsync($"warning: {warning}");
            return 0;
        }));
        var list = new Command("list", "List a project's environments in lifecycle order") { project, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var envs = await client.ListEnvironmentsAsync(result.GetValue(project)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(envs); return 0; }
            foreach (var e in envs) Console.WriteLine(Describe(e));
            return 0;
        }));
        var show = new Command("show", "Show an environment with its freeze windows and variables") { project, name, CliContext.JsonOutput };
        show.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var e = await client.GetEnvironmentAsync(result.GetValue(project)!, result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(e); return 0; }
            Console.WriteLine(Describe(e));
            foreach (var f in e.Freezes)
                Console.WriteLine($"  freeze #{f.Id} {f.Name}: {(f.Cron is null ? $"{f.From:u} to {f.To:u}" : $"{f.Cron} for {TimeSpan.FromSeconds(f.DurationSeconds ?? 0)} ({f.TimeZone ?? "UTC"})")}{(f.ActiveNow ? $"  IN FORCE until {f.ActiveUntil:u}" : "")}");
            foreach (var v in e.Variables) Console.WriteLine($"  var {v.Name} = {(v.Secret ? "(secret)" : v.Value)}");
            return 0;
        }));

        var freezeName = new Option<string?>("--name") { Description = "What the freeze is for" };
        var cron = new Option<string?>("--cron") { Description = "Recurring start, five-field cron, e.g. \"0 16 * * FRI\"" };
        var duration = new Option<string?>("--duration") { Description = "How long each recurring freeze lasts, e.g. 64h" };
        var zone = new Option<string?>("--time-zone") { Description = "IANA time zone of the cron, e.g. Europe/Berlin (default UTC)" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "One-off freeze start (ISO 8601)" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "One-off freeze end (ISO 8601)" };
        var add = new Command("add", "Add a freeze window") { project, name, freezeName, cron, duration, zone, from, to };
        add.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var e = await client.AddFreezeAsync(result.GetValue(project)!, result.GetValue(name)!, new FreezeWindowRequest(result.GetValue(freezeName),
                result.GetValue(cron), result.GetValue(duration), result.GetValue(zone), result.GetValue(from), result.GetValue(to)), ct);
            var f = e.Freezes[^1];
            Console.WriteLine($"freeze #{f.Id} '{f.Name}' added to {e.Name}{(f.ActiveNow ? $"; in force now, until {f.ActiveUntil:u}" : "")}");
            return 0;
        }));
        var id = new Argument<long>("id") { Description = "Freeze window id (see env show)" };
        var remove = new Command("remove", "Remove a freeze window") { project, name, id };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveFreezeAsync(result.GetValue(project)!, result.GetValue(name)!, result.GetValue(id), ct);
            Console.WriteLine($"freeze #{result.GetValue(id)} removed");
            return 0;
        }));

        var varName = new Argument<string>("variable") { Description = "Variable name" };
        var secret = new Option<bool>("--secret") { Description = "Store encrypted; given only to this environment's deployment jobs, masked in logs" };
        var valueStdin = new Option<bool>("--value-stdin") { Description = "Read the value from the first line of standard input" };
        var value = new Option<string?>("--value") { Description = "The value (plain variables only; use --value-stdin for secrets)" };
        var valueFile = new Option<FileInfo?>("--value-file") { Description = "Read the whole value from a file, e.g. an SSH private key for SSH_PRIVATE_KEY" };
        var setVar = new Command("set", "Set an environment variable or secret") { project, name, varName, value, valueStdin, valueFile, secret };
        setVar.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var file = result.GetValue(valueFile);
            var v = file is not null ? await File.ReadAllTextAsync(file.FullName, ct)
                : result.GetValue(valueStdin) ? (await Secrets.ReadStdinLinesAsync(1)).FirstOrDefault() : result.GetValue(value);
            if (v is null || (result.GetValue(secret) && !result.GetValue(valueStdin) && file is null))
            {
                await Console.Error.WriteLineAsync("error: give --value (plain), --value-stdin or --value-file (secrets must come from stdin or a file, never the command line)");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            await client.SetEnvironmentVariableAsync(result.GetValue(project)!, result.GetValue(name)!, result.GetValue(varName)!, v, result.GetValue(secret), ct);
            Console.WriteLine($"{(result.GetValue(secret) ? "secret" : "variable")} {result.GetValue(varName)} of {result.GetValue(name)} set");
            return 0;
        }));

        return new Command("env", "Environments: lifecycle order, deployers, approvals, freezes, variables")
        {
            create, list, show, edit, new Command("freeze", "Freeze windows") { add, remove }, new Command("var", "Environment variables and secrets") { setVar },
        };
    }

    private static string Describe(EnvironmentDto e) =>
        $"{e.Position,3} {e.Name,-14} pool {e.Pool}{(e.Optional ? ", optional" : "")}{(e.AutoDeploy ? ", auto-deploy" : "")}, " +
        $"{e.RequiredApprovals} approval{(e.RequiredApprovals == 1 ? "" : "s")}{(e.ApproverRole is { } r ? $" by {r}" : "")}, " +
        $"deployers: {(e.Deployers.Count == 0 ? "anyone with deployment.start" : string.Join(" ", e.Deployers))}, queue {e.QueuePolicy}";
}
