using System.CommandLine;
using System.Text.Json;
using Slipway.Client;

namespace Slipway.Cli.Commands.Login;

/// <summary><c>slipway login --server URL --token TOKEN</c>: checks the token and saves both for later commands.</summary>
public static class LoginCommand
{
    public static Command Create()
    {
        var command = new Command("login", "Save the server URL and API token for later commands");
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var server = result.GetValue(CliContext.Server) ?? Environment.GetEnvironmentVariable("SLIPWAY_SERVER") ?? "http://127.0.0.1:5080";
            var token = result.GetValue(CliContext.Token) ?? Environment.GetEnvironmentVariable("SLIPWAY_TOKEN");
            if (string.IsNullOrEmpty(token))
            {
                Console.Error.Write("API token: ");
                token = Console.ReadLine()?.Trim();
            }
            if (string.IsNullOrEmpty(token)) { await Console.Error.WriteLineAsync("error: no token given"); return 2; }
            using (var client = new SlipwayClient(server, token)) await client.ListProjectsAsync(ct);
            var path = CliContext.ConfigPath;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using (var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
                await JsonSerializer.SerializeAsync(file, new CliContext.Config(server, token), cancellationToken: ct);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Console.WriteLine($"logged in to {server}; saved to {path}");
            return 0;
        }));
        return command;
    }
}
