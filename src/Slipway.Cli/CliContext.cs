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
    /// <summary>Exit code of a command-line mistake (as for an unknown option).</summary>
    public const int UsageError = 2;

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

    public const string DefaultServer = "http://127.0.0.1:5080";

    /// <summary>The server URL from --server, SLIPWAY_SERVER, the config file, or the default; checked (<see cref="CheckServerUrl"/>).</summary>
    public static string ServerUrl(ParseResult result) => ServerUrl(result, ReadConfig());

    /// <summary>As <see cref="ServerUrl(ParseResult)"/> without the config file (login and agents name the server themselves).</summary>
    public static string ServerUrlWithoutConfig(ParseResult result) => ServerUrl(result, null);

    private static string ServerUrl(ParseResult result, Config? config)
    {
        if (result.GetValue(Server) is { } flag) return CheckServerUrl(flag, "--server");
        if (Environment.GetEnvironmentVariable("SLIPWAY_SERVER") is { } variable)
            return variable.Trim().Length == 0
                ? throw new CliUsageException($"SLIPWAY_SERVER is set but empty: set it to the server's URL (e.g. {DefaultServer}) or unset it")
                : CheckServerUrl(variable, "SLIPWAY_SERVER");
        return config?.Server is { } saved ? CheckServerUrl(saved, $"the server saved by slipway login ({ConfigPath})") : DefaultServer;
    }

    /// <summary>
    /// The URL if it is an absolute http:// or https:// URL with a host; else a <see cref="CliUsageException"/> naming
    /// <paramref name="source"/> and what is wrong (a missing scheme, another scheme), never a .NET stack trace.
    /// </summary>
    public static string CheckServerUrl(string text, string source)
    {
        var url = text.Trim();
        if (url.Length == 0) throw new CliUsageException($"{source} is empty: give the server's URL, e.g. {DefaultServer}");
        // "127.0.0.1:5080" is no URL, and "localhost:5080" would read as the scheme "localhost": ask for the scheme.
        if (!url.Contains("://", StringComparison.Ordinal))
            throw new CliUsageException($"{source}: '{url}' is not a URL; write it with http:// or https://, e.g. http://{url.TrimStart('/')}");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new CliUsageException($"{source}: '{url}' is not a valid URL; e.g. {DefaultServer}");
        if (uri.Scheme is not ("http" or "https"))
            throw new CliUsageException($"{source}: the scheme '{uri.Scheme}://' is not supported; use http:// or https://");
        if (uri.Host.Length == 0) throw new CliUsageException($"{source}: '{url}' names no host");
        return url;
    }

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

    /// <summary>
    /// Runs a command body, turning API and connection errors into one line on stderr and exit code 1, and a usage mistake
    /// (a malformed server URL) into one line and exit code 2.
    /// </summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (CliUsageException e) { await Console.Error.WriteLineAsync($"error: {e.Message}"); return UsageError; }
        catch (SlipwayApiException e) { await Console.Error.WriteLineAsync($"error: {e.Message}"); return 1; }
        catch (HttpRequestException e) { await Console.Error.WriteLineAsync($"error: cannot reach the server: {e.Message}"); return 1; }
        catch (OperationCanceledException) { return 130; }
    }
}

/// <summary>A mistake in how the command was called (a malformed server URL): one line on stderr and exit code 2, no stack trace.</summary>
public sealed class CliUsageException(string message) : Exception(message);
