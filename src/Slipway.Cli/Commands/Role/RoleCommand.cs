using System.CommandLine;

namespace Slipway.Cli.Commands.Role;

/// <summary><c>slipway role list|create|delete|actions</c> and <c>slipway actions</c> (the catalogue roles draw from).</summary>
public static class RoleCommand
{
    public static Command Create() => new("role", "Built-in and custom roles") { List(), CreateRole(), Delete(), Actions("actions") };

    /// <summary>The top-level <c>slipway actions</c>.</summary>
    public static Command ActionsCommand() => Actions("actions");

    private static Command List()
    {
        var command = new Command("list", "List roles with their actions") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var roles = await client.ListRolesAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(roles); return 0; }
            foreach (var r in roles)
            {
                Console.WriteLine($"{r.Name} ({(r.BuiltIn ? "built-in" : "custom")}): {r.Description}");
                Console.WriteLine($"  {string.Join(", ", r.Actions)}");
            }
            return 0;
        }));
        return command;
    }

    private static Command CreateRole()
    {
        var name = new Argument<string>("name") { Description = "Role name: 2-40 lower-case letters, digits or '-'" };
        var actions = new Option<string[]>("--action", "-a")
        {
            Description = "An action of the catalogue (repeat; see slipway actions)", Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var description = new Option<string?>("--description") { Description = "What the role is for" };
        var command = new Command("create", "Create a custom role from actions of the catalogue") { name, actions, description, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var list = result.GetValue(actions)!.SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var role = await client.CreateRoleAsync(result.GetValue(name)!, result.GetValue(description), list, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(role); return 0; }
            Console.WriteLine($"created role {role.Name} with {string.Join(", ", role.Actions)}");
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var name = new Argument<string>("name") { Description = "The role's name" };
        var command = new Command("delete", "Delete a custom role that nobody holds") { name };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.DeleteRoleAsync(result.GetValue(name)!, ct);
            Console.WriteLine($"deleted role {result.GetValue(name)}");
            return 0;
        }));
        return command;
    }

    private static Command Actions(string commandName)
    {
        var command = new Command(commandName, "List the actions a role or token scope can name") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var actions = await client.ListActionsAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(actions); return 0; }
            foreach (var a in actions) Console.WriteLine($"{a.Name,-20} {a.Scope,-8} {a.Description}");
            return 0;
        }));
        return command;
    }
}
