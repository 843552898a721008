using System.CommandLine;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Target;

/// <summary>
/// <c>slipway target add|list|show|edit|remove|disable|enable|scan PROJECT ENV [NAME]</c> and
/// <c>slipway balancer set|list|remove</c>: an environment's deployment targets and load balancers (server-side
/// configuration, env.manage to change, every change audited). A host key is pinned with <c>--host-key</c> or by
/// <c>scan --accept SHA256:...</c> after reading the fingerprint the scan printed.
/// </summary>
public static class TargetCommand
{
    public static IEnumerable<Command> Create()
    {
        yield return Targets();
        yield return Balancers();
    }

    private static Command Targets()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var env = new Argument<string>("environment") { Description = "Environment name" };
        var name = new Argument<string>("target") { Description = "Target name, e.g. web-1" };
        var host = new Option<string?>("--host") { Description = "Host name or address the deploy agent reaches it by" };
        var port = new Option<int?>("--port") { Description = "SSH port (default 22)" };
        var user = new Option<string?>("--user") { Description = "SSH user (default deploy)" };
        var roles = new Option<string[]>("--role") { Description = "A role the target plays, e.g. web (repeat)", AllowMultipleArgumentsPerToken = true };
        var lb = new Option<string?>("--lb") { Description = "The load-balancer server it sits behind: BACKEND/SERVER (empty to clear)" };
        var hostKey = new Option<string?>("--host-key") { Description = "Pinned SSH host key fingerprint, SHA256:... as ssh-keygen -lf prints it (empty to clear)" };

        var nodeAgent = new Option<string?>("--node-agent")
        {
            Description = "The agent running on the target that carries out its steps instead of SSH (started there with --target PROJECT/ENV/TARGET); empty to clear",
        };

        TargetRequest Request(ParseResult r, string? targetName, bool? disabled = null) => new(targetName, r.GetValue(host), r.GetValue(port), r.GetValue(user),
            r.GetValue(roles) is { Length: > 0 } given ? given : null, r.GetValue(lb), r.GetValue(hostKey), disabled, r.GetValue(nodeAgent));

        var add = new Command("add", "Add a deployment target") { project, env, name, host, port, user, roles, lb, hostKey, nodeAgent, CliContext.JsonOutput };
        add.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var t = await client.AddTargetAsync(result.GetValue(project)!, result.GetValue(env)!, Request(result, result.GetValue(name)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(t); return 0; }
            Console.WriteLine($"added target {Describe(t)}");
            if (t.HostKey is null && t.NodeAgent is null)
                await Console.Error.WriteLineAsync($"warning: no host key pinned, so every connection to {t.Name} is refused until one is: " +
                                                   $"run 'slipway target scan {t.Project} {t.Environment} {t.Name}', check the fingerprint on the server, then add --accept SHA256:...");
            return 0;
        }));
        var edit = new Command("edit", "Change a deployment target") { project, env, name, host, port, user, roles, lb, hostKey, nodeAgent, CliContext.JsonOutput };
        edit.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var t = await client.EditTargetAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!, Request(result, null), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(t); return 0; }
            Console.WriteLine($"changed target {Describe(t)}");
            return 0;
        }));
        Command Toggle(string verb, bool disabled, string description)
        {
            var command = new Command(verb, description) { project, env, name };
            command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
            {
                using var client = CliContext.CreateClient(result);
                var t = await client.EditTargetAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!,
                    new TargetRequest(null, null, null, null, null, null, null, disabled), ct);
                Console.WriteLine($"target {t.Name} of {t.Environment} {(disabled ? "disabled: no rollout touches it" : "enabled")}");
                return 0;
            }));
            return command;
        }
        var list = new Command("list", "List an environment's targets with the release each one runs") { project, env, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var targets = await client.ListTargetsAsync(result.GetValue(project)!, result.GetValue(env)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(targets); return 0; }
            if (targets.Count == 0) { Console.WriteLine("no targets"); return 0; }
            var width = Math.Max(6, targets.Max(t => t.Name.Length));
            Console.WriteLine($"{"TARGET".PadRight(width)}  {"RELEASE",-12} {"LAST",-10} ADDRESS / ROLES / BALANCER");
            foreach (var t in targets)
                Console.WriteLine($"{t.Name.PadRight(width)}  {t.CurrentRelease ?? "-",-12} {t.LastState ?? "-",-10} {Describe(t, withName: false)}");
            var releases = targets.Where(t => !t.Disabled && t.CurrentRelease is not null).Select(t => t.CurrentRelease).Distinct().ToList();
            if (releases.Count > 1) Console.WriteLine($"the fleet is mixed: {string.Join(", ", releases)}");
            return 0;
        }));
        var show = new Command("show", "Show one target") { project, env, name, CliContext.JsonOutput };
        show.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var t = await client.GetTargetAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(t); return 0; }
            Console.WriteLine(Describe(t));
            if (t.NodeAgent is { } agent) Console.WriteLine($"  reached:   by its node agent {agent} (no SSH)");
            else Console.WriteLine($"  host key:  {t.HostKey ?? "not pinned (connections are refused)"}");
            Console.WriteLine($"  release:   {t.CurrentRelease ?? "none deployed by Slipway yet"}");
            if (t.LastState is not null)
                Console.WriteLine($"  last:      {t.LastState} in deployment #{t.LastDeployment}{(t.LastReason is { } r ? $": {r}" : "")}");
            return 0;
        }));
        var remove = new Command("remove", "Remove a deployment target") { project, env, name };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveTargetAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!, ct);
            Console.WriteLine($"target {result.GetValue(name)} removed");
            return 0;
        }));
        var accept = new Option<string?>("--accept") { Description = "Pin the host key if its fingerprint is exactly this (SHA256:...)" };
        var scan = new Command("scan", "Show a target's SSH host key; with --accept, pin it") { project, env, name, accept, CliContext.JsonOutput };
        scan.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var s = await client.ScanTargetAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!, result.GetValue(accept), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(s); return 0; }
            Console.WriteLine($"{s.Target} offers {s.KeyType} {s.Fingerprint}");
            if (s.Stored) Console.WriteLine("pinned");
            else if (s.Pinned == s.Fingerprint) Console.WriteLine("already pinned");
            else
                Console.WriteLine((s.Pinned is null ? "not pinned" : $"PINNED KEY DIFFERS: {s.Pinned}") +
                                  $"; check it on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run again with --accept {s.Fingerprint}");
            return 0;
        }));
        return new Command("target", "Deployment targets of an environment: the servers a rolling deployment updates")
        {
            add, list, show, edit, remove, Toggle("disable", true, "Leave a target out of every rollout"), Toggle("enable", false, "Take a disabled target back into rollouts"), scan,
        };
    }

    private static Command Balancers()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var env = new Argument<string>("environment") { Description = "Environment name" };
        var name = new Argument<string>("balancer") { Description = "Load balancer name, e.g. lb1" };
        var kind = new Option<string?>("--kind") { Description = "haproxy (default for a new balancer) or script" };
        var address = new Option<string?>("--address") { Description = "HAProxy runtime API as the deploy agent reaches it: /path/admin.sock or host:port" };
        var drainCommand = new Option<string?>("--drain-command")
        {
            Description = "kind script: run by the deploy agent with /bin/sh -c to drain a server (SLIPWAY_LB_STATE=drain) and put it in maintenance (=maint)",
        };
        var enableCommand = new Option<string?>("--enable-command") { Description = "kind script: puts a server back in rotation (SLIPWAY_LB_STATE=ready)" };
        var statusCommand = new Option<string?>("--status-command")
        {
            Description = "kind script: prints one line 'SERVER STATUS [SESSIONS]' per server of backend $SLIPWAY_LB_BACKEND (STATUS: UP, DOWN, MAINT or DRAIN)",
        };
        var minHealthy = new Option<int?>("--min-healthy") { Description = "Fewest servers of a backend kept in rotation during a rollout (default 1)" };
        var drain = new Option<string?>("--drain-timeout") { Description = "How long to wait for a drained server's sessions to end (default 30s)" };
        var set = new Command("set", "Add or change a load balancer (HAProxy, or script commands)")
        {
            project, env, name, kind, address, drainCommand, enableCommand, statusCommand, minHealthy, drain, CliContext.JsonOutput,
        };
        set.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var b = await client.SetBalancerAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!,
                new BalancerRequest(result.GetValue(kind), result.GetValue(address), result.GetValue(minHealthy), result.GetValue(drain),
                    result.GetValue(drainCommand), result.GetValue(enableCommand), result.GetValue(statusCommand)), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(b); return 0; }
            Console.WriteLine($"load balancer {Describe(b)}");
            return 0;
        }));
        var list = new Command("list", "List an environment's load balancers") { project, env, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var all = await client.ListBalancersAsync(result.GetValue(project)!, result.GetValue(env)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(all); return 0; }
            if (all.Count == 0) Console.WriteLine("no load balancers: rollouts update targets without draining them");
            foreach (var b in all) Console.WriteLine(Describe(b));
            return 0;
        }));
        var remove = new Command("remove", "Remove a load balancer") { project, env, name };
        remove.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveBalancerAsync(result.GetValue(project)!, result.GetValue(env)!, result.GetValue(name)!, ct);
            Console.WriteLine($"load balancer {result.GetValue(name)} removed");
            return 0;
        }));
        return new Command("balancer", "Load balancers of an environment (HAProxy runtime API, or script commands)") { set, list, remove };
    }

    private static string Describe(BalancerDto b) =>
        (b.Kind == "script"
            ? $"{b.Name}: script, min_healthy {b.MinHealthy}, drain timeout {b.DrainTimeoutSeconds}s\n" +
              $"  drain:  {b.DrainCommand}\n  enable: {b.EnableCommand}\n  status: {b.StatusCommand}"
            : $"{b.Name}: {b.Kind} at {b.Address}, min_healthy {b.MinHealthy}, drain timeout {b.DrainTimeoutSeconds}s");

    private static string Describe(TargetDto t, bool withName = true) =>
        (withName ? $"{t.Name} " : "") + (t.NodeAgent is { } agent ? $"{t.Host} via node agent {agent}" : $"{t.SshUser}@{t.Host}:{t.SshPort}") +
        $" [{string.Join(",", t.Roles)}]" + (t.BalancerServer is { } s ? $" behind {s}" : "") + (t.Disabled ? " DISABLED" : "") +
        (t.HostKey is null && t.NodeAgent is null ? " (no host key pinned)" : "");
}
