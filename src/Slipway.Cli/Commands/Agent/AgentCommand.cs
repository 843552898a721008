using System.CommandLine;
using Slipway.Cli.Output;
using Microsoft.Extensions.Logging;
using Slipway.Agent;

namespace Slipway.Cli.Commands.Agent;

/// <summary>
/// <c>slipway agent --server URL --token TOKEN [--pool NAME] [--labels a,b] [--work DIR] [--slots N] [--name N] [--target P/ENV/T]</c> runs an agent
/// (with --target, a node agent: it runs on that deployment target and carries out the target's rollout steps locally);
/// its subcommands manage agents: token create, approve, disable, remove, list.
/// </summary>
public static class AgentCommand
{
    public static Command Create()
    {
        var pool = new Option<string?>("--pool") { Description = "Pool of this agent (default build)" };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated labels" };
        var work = new Option<string?>("--work") { Description = "Work folder (default ./slipway-agent)" };
        var slots = new Option<int?>("--slots") { Description = "Jobs at once (default: cores)" };
        var name = new Option<string?>("--name") { Description = "Agent name (default: host name)" };
        var sandbox = new Option<string?>("--sandbox")
        {
            Description = "How jobs are isolated: bwrap (default; needs bubblewrap) or none (jobs get everything this user can reach)",
        };
        var hide = new Option<string[]>("--sandbox-hide") { Description = "A further folder jobs must not see (repeatable), e.g. a Slipway server's data folder on this machine" };
        var share = new Option<string[]>("--sandbox-share") { Description = "A folder every job may read and write (repeatable), e.g. a build cache; never one holding secrets" };
        var target = new Option<string?>("--target")
        {
            Description = "PROJECT/ENV/TARGET: run as that deployment target's node agent (its rollout steps run here, no SSH; no pool jobs). " +
                          "The target must name this agent: slipway target add|edit ... --node-agent NAME",
        };
        var command = new Command("agent", "Run a build/deploy agent, or manage agents") { pool, labels, work, slots, name, sandbox, hide, share, target };
        command.SetAction(async (result, ct) =>
        {
            var options = new AgentOptions();
            try { options.ServerUrl = CliContext.ServerUrl(result); }
            catch (CliUsageException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return CliContext.UsageError;
            }
            if (result.GetValue(CliContext.Token) is { } t) options.RegistrationToken = t;
            if (result.GetValue(pool) is { } p) options.Pool = p;
            if (result.GetValue(labels) is { } l) options.Labels = l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (result.GetValue(work) is { } w) options.WorkDirectory = w;
            if (result.GetValue(slots) is { } s) options.Slots = s;
            if (result.GetValue(name) is { } n) options.Name = n;
            if (result.GetValue(target) is { } tg) options.Target = tg;
            try
            {
                if (result.GetValue(sandbox) is { } mode) options.Sandbox = AgentOptions.ParseSandbox(mode);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
            if (result.GetValue(hide) is { Length: > 0 } hidden) options.SandboxHide = [.. options.SandboxHide, .. hidden];
            if (result.GetValue(share) is { Length: > 0 } shared) options.SandboxShare = [.. options.SandboxShare, .. shared];
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
            using var host = new AgentHost(options, loggers.CreateLogger<AgentHost>());
            try { await host.RunAsync(ct); }
            catch (OperationCanceledException) { }
            catch (Exception e) when (e is InvalidOperationException or Slipway.Agent.Protocol.AgentRefusedException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            return 0;
        });
        command.Subcommands.Add(TokenCommand());
        command.Subcommands.Add(ApproveCommand());
        command.Subcommands.Add(DisableCommand());
        command.Subcommands.Add(RemoveCommand());
        command.Subcommands.Add(ListCommand());
        return command;
    }

    private static Command TokenCommand()
    {
        var pool = new Option<string?>("--pool") { Description = "Pool the token admits agents to (default build)" };
        var pre = new Option<bool>("--pre-approved") { Description = "Agents registered with it need no approval" };
        var agent = new Option<string?>("--agent") { Description = "Bind the token to one agent name (e.g. a node agent's): it registers only that agent" };
        var days = new Option<int?>("--expires-in-days") { Description = "How long it admits agents: 1 to 365 days, 0 for never (default 7)" };
        var create = new Command("create", "Create a registration token for new agents (printed alone on stdout; its expiry on stderr)") { pool, pre, agent, days };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var token = await client.CreateAgentTokenAsync(result.GetValue(pool) ?? "build", result.GetValue(pre), ct, result.GetValue(agent), result.GetValue(days));
            Console.WriteLine(token.Token);
            // stdout stays the token alone, for scripts ($(slipway agent token create)); the expiry is for the person.
            Console.Error.WriteLine(token.ExpiresAt is { } expires
                ? $"registration token {token.Id} for pool {token.Pool}: admits agents until {expires.UtcDateTime:yyyy-MM-dd HH:mm} UTC"
                : $"registration token {token.Id} for pool {token.Pool}: never expires; revoke it when done (slipway agent token revoke {token.Id})");
            return 0;
        }));
        var list = new Command("list", "List registration tokens (never their values)") { CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var tokens = await client.ListAgentTokensAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(tokens); return 0; }
            var table = new TextTable(">ID", "POOL", "APPROVAL", "AGENT", "CREATED (UTC)", "EXPIRES (UTC)", "REVOKED (UTC)");
            foreach (var t in tokens)
                table.Add(t.Id.ToString(), t.Pool, t.PreApproved ? "pre-approved" : "needs approval", t.AgentName ?? "any",
                    t.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), (t.ExpiresAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") ?? "never") + (t.Expired ? " (expired)" : ""),
                    t.RevokedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") ?? "-");
            table.WriteToConsole();
            return 0;
        }));
        var id = new Argument<long>("id") { Description = "The token's id (slipway agent token list)" };
        var revoke = new Command("revoke", "Revoke a registration token: it admits no agent from then on") { id };
        revoke.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var revoked = await client.RevokeAgentTokenAsync(result.GetValue(id), ct);
            Console.WriteLine($"registration token {revoked.Id} (pool {revoked.Pool}) revoked; agents it registered keep working: disable or remove them if needed");
            return 0;
        }));
        return new Command("token", "Registration tokens") { create, list, revoke };
    }

    private static Command ApproveCommand()
    {
        var name = new Argument<string>("name") { Description = "Agent name" };
        var command = new Command("approve", "Approve a waiting agent") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var agent = await client.ApproveAgentAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"agent {agent.Name} is {agent.Status}");
            return 0;
        }));
        return command;
    }

    private static Command DisableCommand()
    {
        var name = new Argument<string>("name") { Description = "Agent name" };
        var command = new Command("disable", "Shut an agent out: every call with its credential is refused") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var agent = await client.DisableAgentAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"agent {agent.Name} is {agent.Status}");
            return 0;
        }));
        return command;
    }

    private static Command RemoveCommand()
    {
        var name = new Argument<string>("name") { Description = "Agent name" };
        var command = new Command("remove", "Remove an agent so its name can be registered again (refused while it runs jobs)") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RemoveAgentAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"agent {result.GetValue(name)} removed; its credential no longer works and the name is free");
            return 0;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "List agents") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var agents = await client.ListAgentsAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(agents); return 0; }
            var table = new TextTable("AGENT", "POOL", "STATUS", ">SLOTS", ">RUNNING", "LAST SEEN (UTC)");
            foreach (var a in agents)
                table.Add(a.Name, a.Pool, a.Status, a.Slots.ToString(), a.RunningJobs.ToString(), a.LastSeenAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"));
            table.WriteToConsole();
            return 0;
        }));
        return command;
    }
}
