using System.CommandLine;
using System.Net;
using Slipway.Client;
using Slipway.Core.Nodes;
using Slipway.Core.Pipelines;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Node;

/// <summary>
/// <c>slipway node list [--json] | drain NAME [--wait [--timeout 10m]] | undrain NAME | remove NAME</c>: the server nodes
/// sharing one database, their heartbeats, open requests and the duties each holds; drain one before upgrading it and
/// wait until it is drained, remove one that was retired (docs/operations.md, "Nodes and duties").
/// </summary>
public static class NodeCommand
{
    public static Command Create() => new("node", "Server nodes: list them with their duties, drain one before an upgrade, remove a retired one")
    {
        ListCommand(),
        DrainCommand(),
        UndrainCommand(),
        RemoveCommand(),
    };

    private static Command ListCommand()
    {
        var command = new Command("list", "List the server nodes") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var nodes = await client.ListNodesAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(nodes); return 0; }
            var table = new TextTable("NAME", "STATE", "VERSION", "LAST HEARTBEAT (UTC)", "OPEN REQUESTS", "EMBEDDED JOBS", "DUTIES (FENCING TOKEN)");
            foreach (var n in nodes)
                table.Add(n.Name + (n.ThisNode ? " *" : ""), n.State ?? "-", n.Version, n.HeartbeatAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"),
                    n.Alive && n.OpenRequests is { } open ? open.ToString() : "-", n.Alive && n.EmbeddedJobs is { } jobs ? jobs.ToString() : "-",
                    n.Duties.Count == 0 ? "none" : string.Join(", ", n.Duties.Select(d => $"{d.Duty} ({d.FencingToken})")));
            table.WriteToConsole();
            if (nodes.Count == 0) Console.WriteLine("no server nodes have started yet");
            return 0;
        }));
        return command;
    }

    private static Command DrainCommand()
    {
        var name = new Argument<string>("name") { Description = "Node name (slipway node list)" };
        var wait = new Option<bool>("--wait")
        {
            Description = "Then wait until the node is drained (no duty, no open request: safe to stop), printing what it still has; " +
                          "a node already draining is waited for",
        };
        var timeout = new Option<string?>("--timeout") { Description = "With --wait: give up after this long (30s, 10m, 1h), exit 1. Default 10m" };
        var command = new Command("drain", "Drain a node: it gives up its duties, takes no new jobs and answers /healthz 503") { name, wait, timeout };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var node = result.GetValue(name)!;
            var limit = TimeSpan.FromMinutes(10);
            if (result.GetValue(timeout) is { } text && !Durations.TryParsePositive(text, TimeSpan.FromDays(1), out limit, out var error))
                throw new CliUsageException($"--timeout: {error}");
            using var client = CliContext.CreateClient(result);
            try
            {
                await client.DrainNodeAsync(node, ct);
                Console.WriteLine($"node {node} drains: it gives up its duties within a heartbeat, takes no new jobs and answers /healthz 503");
            }
            // Waiting again for a drain already asked for (a second terminal, a script run twice) is not an error.
            catch (SlipwayApiException e) when (result.GetValue(wait) && e.Status == HttpStatusCode.Conflict)
            {
                Console.WriteLine($"node {node} is already draining");
            }
            return result.GetValue(wait) ? await WaitUntilDrainedAsync(client, node, limit, ct) : 0;
        }));
        return command;
    }

    /// <summary>Polls the list every second and prints a plain line whenever what the node waits for changes; 0 once it is
    /// drained (or stopped), 1 when it is lost, undrained or the time is up. A node of an earlier version reports no counts:
    /// once it holds no duty, the answer says so and leaves the last wait to the operator (0).</summary>
    private static async Task<int> WaitUntilDrainedAsync(SlipwayClient client, string name, TimeSpan limit, CancellationToken ct)
    {
        var until = DateTime.UtcNow + limit;
        string? said = null;
        while (true)
        {
            var node = (await client.ListNodesAsync(ct)).FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                await Console.Error.WriteLineAsync($"error: node {name} is no longer listed");
                return 1;
            }
            if (node.State is null)
            {
                await Console.Error.WriteLineAsync("error: the server does not report node states (an earlier version): wait until " +
                                                   $"slipway node list shows {name} holding no duty, then 30 s more");
                return 1;
            }
            if (node is { State: NodeStates.Draining, OpenRequests: null, Duties.Count: 0 })
            {
                Console.WriteLine($"node {name} holds no duty; its version does not report its open requests or jobs: give them 30 s before stopping it");
                return 0;
            }
            switch (node.State)
            {
                case NodeStates.Drained:
                    Console.WriteLine($"node {name} is drained: it holds no duty, and has no open request and no job on its embedded agent; it can be stopped");
                    return 0;
                case NodeStates.Stopped:
                    Console.WriteLine($"node {name} has stopped");
                    return 0;
                case NodeStates.Lost:
                    await Console.Error.WriteLineAsync($"error: node {name} is lost (no heartbeat for three intervals); its duties pass to other nodes when their leases expire");
                    return 1;
                case NodeStates.Alive:
                    await Console.Error.WriteLineAsync($"error: node {name} no longer drains (undrained meanwhile)");
                    return 1;
            }
            var waitingFor = node.WaitingFor ?? "";
            if (waitingFor != said) Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} waiting for {waitingFor}");
            said = waitingFor;
            if (DateTime.UtcNow >= until)
            {
                await Console.Error.WriteLineAsync($"error: node {name} is not drained after {Durations.Format(limit)}: still waiting for {waitingFor}");
                return 1;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private static Command UndrainCommand()
    {
        var name = new Argument<string>("name") { Description = "Node name (slipway node list)" };
        var command = new Command("undrain", "Let a drained node take duties and jobs again") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var node = await client.UndrainNodeAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"node {node.Name} no longer drains");
            return 0;
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var name = new Argument<string>("name") { Description = "Node name (slipway node list)" };
        var command = new Command("remove", "Remove a retired node (stopped or lost) from the list; if it starts again it is listed again") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveNodeAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"node {result.GetValue(name)} removed from the list");
            return 0;
        }));
        return command;
    }
}
