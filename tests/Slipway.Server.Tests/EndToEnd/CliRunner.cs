using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>
/// Runs the real <c>slipway</c> program with text on stdin (passwords, as a script would pipe them) and an
/// environment of our choosing; a null value removes the variable (so a token cannot leak in from the test host).
/// </summary>
public static class CliRunner
{
    public static Task<(int Exit, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string?> env, string? stdin, params string[] args) =>
        SlipwayProcess.RunAsync(args,
            env.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!),
            stdin,
            unset: env.Where(e => e.Value is null).Select(e => e.Key).Concat(["SLIPWAY_SERVER", "SLIPWAY_TOKEN"]).Where(n => env.GetValueOrDefault(n) is null));

    /// <summary>As the holder of <paramref name="token"/> on <paramref name="server"/> (each token its own CLI config folder).</summary>
    public static Task<(int Exit, string Out, string Err)> AsAsync(SlipwayTestServer server, string token, params string[] args) =>
        RunAsync(new Dictionary<string, string?>
        {
            ["SLIPWAY_SERVER"] = server.Url,
            ["SLIPWAY_TOKEN"] = token,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "cli-" + token[^6..]),
        }, null, args);

    /// <summary>As the bootstrap admin of <paramref name="server"/>.</summary>
    public static Task<(int Exit, string Out, string Err)> AdminAsync(SlipwayTestServer server, string? stdin, params string[] args) =>
        RunAsync(new Dictionary<string, string?>
        {
            ["SLIPWAY_SERVER"] = server.Url,
            ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "admin-cli-config"),
        }, stdin, args);
}
