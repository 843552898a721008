using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Node;

/// <summary>
/// <c>slipway node list [--json] | drain NAME | undrain NAME</c>: the server nodes sharing one database, their heartbeats
/// and the duties each holds; drain one before upgrading it (docs/operations.md, "Nodes and duties").
/// </summary>
public static class NodeCommand
{
    public static Command Create() => new("node", "Server nodes: list them with their duties, drain one before an upgrade")
    {
        ListCommand(),
        DrainCommand("drain", "Drain a node: it gives up its duties, takes no new jobs and answers /healthz 503", draining: true),
        DrainCommand("undrain", "Let a drained node take duties and jobs again", draining: false),
    };

    private static Command ListCommand()
    {
        var command = new Command("list", "List the server nodes") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var nodes = await client.ListNodesAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(nodes); return 0; }
            var table = new TextTable("NAME", "STATE", "VERSION", "LAST HEARTBEAT (UTC)", "DUTIES (FENCING TOKEN)");
            foreach (var n in nodes)
                table.Add(n.Name + (n.ThisNode ? " *" : ""), State(n), n.Version, n.HeartbeatAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"),
                    n.Duties.Count == 0 ? "none" : string.Join(", ", n.Duties.Select(d => $"{d.Duty} ({d.FencingToken})")));
            table.WriteToConsole();
            if (nodes.Count == 0) Console.WriteLine("no server nodes have started yet");
            return 0;
        }));
        return command;
    }

    private static Command DrainCommand(string verb, string description, bool draining)
    {
        var name = new Argument<string>("name") { Description = "Node name (slipway node list)" };
        var command = new Command(verb, description) { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var node = draining ? await client.DrainNodeAsync(result.GetValue(name)!, ct) : await client.UndrainNodeAsync(result.GetValue(name)!, ct);
            Console.WriteLine(draining
                ? $"node {node.Name} drains: it gives up its duties within a heartbeat, takes no new jobs and answers /healthz 503"
                : $"node {node.Name} no longer drains");
            return 0;
        }));
        return command;
    }

    /// <summary>Stopped (shut down), lost (no heartbeat for three intervals), draining or alive.</summary>
    public static string State(NodeDto n) => n.StoppedAt is not null ? "stopped" : !n.Alive ? "lost" : n.Draining ? "draining" : "alive";
}
