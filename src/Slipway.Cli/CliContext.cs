using System.CommandLine;
using System.Text.Json;
using Slipway.Client;

namespace Slipway.Cli;

/// <summary>
/// Where the CLI finds the server and its token, in order: --server/--token, SLIPWAY_SERVER/SLIPWAY_TOKEN,
/// then the config file written by <c>slipway login</c> (~/.config/slipway/config.json, mode 0600).
/// </summary>
public static class CliContext
{
    public static readonly Option<string?> Server = new("--server", "-s") { Description = "Server URL (or SLIPWAY_SERVER)", Recursive = true };
    public static readonly Option<string?> Token = new("--token") { Description = "API token (or SLIPWAY_TOKEN)", Recursive = true };
    public static readonly Option<bool> JsonOutput = new("--json") { Description = "Print JSON instead of text" };

    public sealed record Config(string Server, string Token);

    public static string ConfigPath => Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
        "slipway", "config.json");

    public static Config? ReadConfig()
    {
        try { return File.Exists(ConfigPath) ? JsonSerializer.Deserialize<Config>(File.ReadAllText(ConfigPath)) : null; }
        catch (Exception) { return null; }
    }

    /// <summary>The server URL from --server, SLIPWAY_SERVER, the config file, or the default.</summary>
    public static string ServerUrl(ParseResult result) => ServerUrl(result, ReadConfig());

    private static string ServerUrl(ParseResult result, Config? config) =>
        result.GetValue(Server) ?? Environment.GetEnvironmentVariable("SLIPWAY_SERVER") ?? config?.Server ?? "http://127.0.0.1:5080";

    /// <summary>Saves server and token for later commands, readable by the user only (0600); returns the file's path.</summary>
    public static async Task<string> SaveConfigAsync(string server, string token, CancellationToken ct)
    {
        var path = ConfigPath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
            await JsonSerializer.SerializeAsync(file, new Config(server, token), cancellationToken: ct);
        // An existing file keeps its mode on FileMode.Create: tighten it.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    public static SlipwayClient CreateClient(ParseResult result)
    {
        var config = ReadConfig();
        var server = ServerUrl(result, config);
        var token = result.GetValue(Token) ?? Environment.GetEnvironmentVariable("SLIPWAY_TOKEN") ?? config?.Token;
        return new SlipwayClient(server, token);
    }

    public static void PrintJson<T>(T value) =>
        Console.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions(SlipwayClient.Json) { WriteIndented = true }));

    /// <summary>Runs a command body, turning API and connection errors into one line on stderr and exit code 1.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (SlipwayApiException e) { await Console.Error.WriteLineAsync($"error: {e.Message}"); return 1; }
        catch (HttpRequestException e) { await Console.Error.WriteLineAsync($"error: cannot reach the server: {e.Message}"); return 1; }
        catch (OperationCanceledException) { return 130; }
    }
}
