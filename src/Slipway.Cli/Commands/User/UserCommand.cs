using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.User;

/// <summary>
/// <c>slipway user create|list|show|disable|enable|grant|revoke|passwd|set-password</c>. Passwords come from
/// stdin (<c>--password-stdin</c>) or a hidden prompt at a terminal, never from the command line.
/// </summary>
public static class UserCommand
{
    public static Command Create() => new("user", "Users, their grants and passwords")
    {
        CreateUser(), List(), Show(), Disable(), Enable(), GrantCommand("grant"), GrantCommand("revoke"), Passwd(), SetPassword(),
    };

    private static readonly Option<bool> PasswordStdin = new("--password-stdin") { Description = "Read the password from stdin (one line)" };

    private static Command CreateUser()
    {
        var name = new Argument<string>("name") { Description = "Username: lower-case letters, digits, '.', '_' or '-'" };
        var displayName = new Option<string?>("--display-name") { Description = "Full name shown in the UI" };
        var email = new Option<string?>("--email") { Description = "Email address" };
        var command = new Command("create", "Create a user (with a password from stdin or a prompt, or without one)")
        {
            name, displayName, email, PasswordStdin, CliContext.JsonOutput,
        };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var username = result.GetValue(name)!;
            string? password = null;
            if (result.GetValue(PasswordStdin))
            {
                password = (await Secrets.ReadStdinLinesAsync(1)).FirstOrDefault();
                if (string.IsNullOrEmpty(password)) { await Console.Error.WriteLineAsync("error: no password on stdin"); return 2; }
            }
            else if (Secrets.Interactive)
            {
                password = Secrets.PromptNew($"Password for {username} (empty: none yet):", allowEmpty: true);
                if (password is null) { await Console.Error.WriteLineAsync("error: the two passwords differ"); return 2; }
                if (password.Length == 0) password = null;
            }
            using var client = CliContext.CreateClient(result);
            var user = await client.CreateUserAsync(username, result.GetValue(displayName), result.GetValue(email), password, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(user); return 0; }
            Console.WriteLine(user.HasPassword
                ? $"created user {user.Username}"
                : $"created user {user.Username} without a password; set one with: slipway user set-password {user.Username} --password-stdin");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List users with their grants") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var users = await client.ListUsersAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(users); return 0; }
            var table = new TextTable("USER", "STATE", "SIGN-IN", "GRANTS");
            foreach (var u in users)
                table.Add(u.Username, u.Disabled ? "disabled" : "enabled", u.HasPassword ? "password" : "no-password", Grants(u));
            table.WriteToConsole();
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var name = new Argument<string>("name") { Description = "The user's name" };
        var command = new Command("show", "Show a user and their grants") { name, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var user = await client.GetUserAsync(result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(user); return 0; }
            Print(user);
            return 0;
        }));
        return command;
    }

    public static void Print(UserDto u)
    {
        Console.WriteLine($"user {u.Username}{(u.DisplayName is null ? "" : $" ({u.DisplayName})")}: {(u.Disabled ? "disabled" : "enabled")}");
        if (u.Email is not null) Console.WriteLine($"  email {u.Email}");
        Console.WriteLine($"  password {(u.HasPassword ? "set" : "not set")}; created {u.CreatedAt:u}");
        if (u.Grants.Count == 0) Console.WriteLine("  no grants");
        foreach (var g in u.Grants) Console.WriteLine($"  grant {GrantText(g.Role, g.Project, g.Environment)} (by {g.GrantedBy}, {g.CreatedAt:u})");
    }

    private static string Grants(UserDto u) =>
        u.Grants.Count == 0 ? "-" : string.Join(", ", u.Grants.Select(g => GrantText(g.Role, g.Project, g.Environment)));

    private static string GrantText(string role, string? project, string? environment) =>
        project is null ? role : environment is null ? $"{role} on {project}" : $"{role} on {project}/{environment}";

    private static Command Disable()
    {
        var name = new Argument<string>("name") { Description = "The user's name" };
        var command = new Command("disable", "Disable a user: their sessions and API tokens stop working at once") { name, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var user = await client.DisableUserAsync(result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(user);
            else Console.WriteLine($"user {user.Username} disabled; their sessions and API tokens are revoked");
            return 0;
        }));
        return command;
    }

    private static Command Enable()
    {
        var name = new Argument<string>("name") { Description = "The user's name" };
        var command = new Command("enable", "Enable a disabled user (their old tokens stay revoked)") { name, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var user = await client.EnableUserAsync(result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(user);
            else Console.WriteLine($"user {user.Username} enabled");
            return 0;
        }));
        return command;
    }

    private static Command GrantCommand(string verb)
    {
        var name = new Argument<string>("name") { Description = "Username" };
        var role = new Argument<string>("role") { Description = "Role (slipway role list)" };
        var project = new Option<string?>("--project", "-p") { Description = "Only on this project (default: server-wide)" };
        var environment = new Option<string?>("--environment", "-e") { Description = "Only on this environment of the project" };
        var grant = verb == "grant";
        var command = new Command(verb, grant ? "Grant a role to a user, server-wide or on a project" : "Revoke a role granted to a user")
        {
            name, role, project, environment, CliContext.JsonOutput,
        };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var (u, r, p, e) = (result.GetValue(name)!, result.GetValue(role)!, result.GetValue(project), result.GetValue(environment));
            var user = grant ? await client.GrantAsync(u, r, p, e, ct) : await client.RevokeGrantAsync(u, r, p, e, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(user); return 0; }
            Console.WriteLine(grant ? $"granted {GrantText(r, p, e)} to {u}" : $"revoked {GrantText(r, p, e)} from {u}");
            return 0;
        }));
        return command;
    }

    private static Command Passwd()
    {
        var command = new Command("passwd",
            "Change your own password (with --password-stdin: current password on the first line, new one on the second; " +
            "an account without a password gives only the new one)") { PasswordStdin };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            string? current;
            string password;
            if (result.GetValue(PasswordStdin))
            {
                var lines = await Secrets.ReadStdinLinesAsync(2);
                if (lines.Count == 0 || lines[^1].Length == 0) { await Console.Error.WriteLineAsync("error: no new password on stdin"); return 2; }
                (current, password) = lines.Count == 2 ? (lines[0], lines[1]) : (null, lines[0]);
            }
            else if (Secrets.Interactive)
            {
                current = Secrets.Prompt("Current password (empty if you have none):", allowEmpty: true);
                var chosen = Secrets.PromptNew("New password:");
                if (chosen is null) { await Console.Error.WriteLineAsync("error: the two passwords differ"); return 2; }
                password = chosen;
            }
            else
            {
                await Console.Error.WriteLineAsync("error: no terminal to ask for passwords; pass them with --password-stdin");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            await client.ChangePasswordAsync(string.IsNullOrEmpty(current) ? null : current, password, ct);
            Console.WriteLine("password changed");
            return 0;
        }));
        return command;
    }

    private static Command SetPassword()
    {
        var name = new Argument<string>("name") { Description = "The user's name" };
        var command = new Command("set-password", "Set (reset) another user's password (admin)") { name, PasswordStdin };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var username = result.GetValue(name)!;
            string? password;
            if (result.GetValue(PasswordStdin)) password = (await Secrets.ReadStdinLinesAsync(1)).FirstOrDefault();
            else if (Secrets.Interactive)
            {
                password = Secrets.PromptNew($"New password for {username}:");
                if (password is null) { await Console.Error.WriteLineAsync("error: the two passwords differ"); return 2; }
            }
            else
            {
                await Console.Error.WriteLineAsync("error: no terminal to ask for the password; pass it with --password-stdin");
                return 2;
            }
            if (string.IsNullOrEmpty(password)) { await Console.Error.WriteLineAsync("error: no password given"); return 2; }
            using var client = CliContext.CreateClient(result);
            await client.SetUserPasswordAsync(username, password, ct);
            Console.WriteLine($"password of {username} set");
            return 0;
        }));
        return command;
    }
}
