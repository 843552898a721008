using System.CommandLine;
using System.Net;
using Slipway.Client;

namespace Slipway.Cli.Commands.Login;

/// <summary>
/// <c>slipway login --server URL --token TOKEN</c>: checks the token and saves both for later commands.
/// <c>slipway login --server URL --username U [--password-stdin]</c>: signs in with a password, which issues a new
/// API token (POST /api/v1/auth/login), and saves that token the same way. The file is
/// ~/.config/slipway/config.json ($XDG_CONFIG_HOME if set), mode 0600.
/// </summary>
public static class LoginCommand
{
    public static Command Create()
    {
        var username = new Option<string?>("--username", "-u") { Description = "Sign in with this user's password instead of a token" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin" };
        var tokenName = new Option<string?>("--token-name") { Description = "Name of the API token issued at sign-in (default: cli and the time)" };
        var days = new Option<int?>("--expires-in-days") { Description = "Lifetime of the issued token in days (default 30)" };
        var command = new Command("login", "Save the server URL and an API token for later commands (from --token, or by signing in with --username)")
        {
            username, passwordStdin, tokenName, days,
        };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(username) is { } user)
                return await PasswordLoginAsync(result, user, result.GetValue(passwordStdin), result.GetValue(tokenName), result.GetValue(days), ct);

            var server = CliContext.ServerUrlWithoutConfig(result);
            var token = result.GetValue(CliContext.Token) ?? Environment.GetEnvironmentVariable("SLIPWAY_TOKEN");
            if (string.IsNullOrEmpty(token))
            {
                token = Secrets.Interactive ? Secrets.Prompt("API token:", allowEmpty: true).Trim() : (await Console.In.ReadLineAsync())?.Trim();
            }
            if (string.IsNullOrEmpty(token)) { await Console.Error.WriteLineAsync("error: no token given"); return 2; }
            string who;
            using (var client = new SlipwayClient(server, token))
            {
                try { who = " as " + (await client.MeAsync(ct)).Username; }
                // A valid token whose scope leaves out account.self: it is accepted, it just cannot say whose it is.
                catch (SlipwayApiException e) when (e.Status == HttpStatusCode.Forbidden) { who = ""; }
            }
            var path = await CliContext.SaveConfigAsync(server, token, ct);
            Console.WriteLine($"logged in to {server}{who}; saved to {path}");
            return 0;
        }));
        return command;
    }

    private static async Task<int> PasswordLoginAsync(ParseResult result, string username, bool fromStdin, string? tokenName, int? days, CancellationToken ct)
    {
        var server = CliContext.ServerUrl(result);
        string password;
        if (fromStdin) password = (await Secrets.ReadStdinLinesAsync(1)).FirstOrDefault() ?? "";
        else if (Secrets.Interactive) password = Secrets.Prompt($"Password for {username}:");
        else
        {
            await Console.Error.WriteLineAsync("error: no terminal to ask for the password; pass it with --password-stdin");
            return 2;
        }
        if (password.Length == 0) { await Console.Error.WriteLineAsync("error: no password given"); return 2; }

        using var client = new SlipwayClient(server, null);
        // A name of our own to the millisecond: two sign-ins in one second must not collide on the server's default name.
        var issued = await client.LoginAsync(username, password, tokenName ?? $"cli {DateTime.UtcNow:yyyy-MM-dd HH.mm.ss.fff}", days, ct);
        var path = await CliContext.SaveConfigAsync(server, issued.Token, ct);
        Console.WriteLine($"logged in to {server} as {username}; API token #{issued.Id} '{issued.Name}'" +
                          (issued.ExpiresAt is { } e ? $" expires {e:yyyy-MM-dd HH:mm} UTC" : "") + $"; saved to {path} (mode 0600)");
        return 0;
    }
}
