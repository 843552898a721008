using System.Diagnostics;
using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>
/// Runs the real <c>slipway</c> program with text on stdin (passwords, as a script would pipe them) and an
/// environment of our choosing; a null value removes the variable (so a token cannot leak in from the test host).
/// </summary>
public static class CliRunner
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string?> env, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(RepositoryLayout.SlipwayDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "SLIPWAY_SERVER", "SLIPWAY_TOKEN" }) psi.Environment.Remove(name);
        foreach (var (k, v) in env)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>As the bootstrap admin of <paramref name="server"/>.</summary>
    public static Task<(int Exit, string Out, string Err)> AdminAsync(SlipwayTestServer server, string? stdin, params string[] args) =>
        RunAsync(new Dictionary<string, string?>
        {
            ["SLIPWAY_SERVER"] = server.Url,
            ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "admin-cli-config"),
        }, stdin, args);
}
