using System.CommandLine;
using Slipway.Cli.Output;

namespace Slipway.Cli.Commands.Token;

/// <summary><c>slipway token create|list|revoke</c>: your own API tokens.</summary>
public static class TokenCommand
{
    public static Command Create() => new("token", "Your API tokens") { CreateToken(), List(), Revoke() };

    private static Command CreateToken()
    {
        var name = new Argument<string>("name") { Description = "A name to recognise the token by (unique among your active tokens)" };
        var days = new Option<int?>("--expires-in-days") { Description = "Lifetime in days (default: the server's, 90)" };
        var scope = new Option<string[]>("--scope")
        {
            Description = "Only these actions (repeat; default: all of yours). See slipway actions", AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("create", "Create an API token; it is shown once") { name, days, scope, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var actions = (result.GetValue(scope) ?? [])
                .SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var token = await client.CreateTokenAsync(result.GetValue(name)!, result.GetValue(days), actions.Count == 0 ? null : actions, ct);
            await Console.Error.WriteLineAsync("warning: the token is shown only this once; store it now (the server keeps only its hash)");
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(token); return 0; }
            Console.WriteLine($"created API token #{token.Id} '{token.Name}'" +
                              (token.ExpiresAt is { } e ? $", expires {e:yyyy-MM-dd HH:mm} UTC" : "") +
                              (token.Scope is { } s ? $", scope {string.Join(",", s)}" : ", all of your permissions"));
            Console.WriteLine(token.Token);
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List your API tokens (never their values)") { CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var tokens = await client.ListTokensAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(tokens); return 0; }
            var table = new TextTable(">ID", "NAME", "STATE", "CREATED (UTC)", "EXPIRES (UTC)", "SCOPE");
            foreach (var t in tokens)
                table.Add(t.Id.ToString(), t.Name, t.Active ? "active" : t.RevokedAt is not null ? "revoked" : "expired", Utc(t.CreatedAt),
                    t.ExpiresAt is { } e ? Utc(e) : "never", t.Scope is { } s ? string.Join(",", s) : "all of yours");
            table.WriteToConsole();
            return 0;
        }));
        return command;
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");

    private static Command Revoke()
    {
        var id = new Argument<long>("id") { Description = "Token id (slipway token list)" };
        var command = new Command("revoke", "Revoke one of your API tokens; it stops working at once") { id };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.RevokeTokenAsync(result.GetValue(id), ct);
            Console.WriteLine($"revoked token #{result.GetValue(id)}");
            return 0;
        }));
        return command;
    }
}
