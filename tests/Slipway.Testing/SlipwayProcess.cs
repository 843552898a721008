using System.Diagnostics;

namespace Slipway.Testing;

/// <summary>The built <c>slipway</c> program as a real child process: for CLI tests and for servers and agents a test kills.</summary>
public static class SlipwayProcess
{
    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(RepositoryLayout.SlipwayDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Starts a long-running slipway (server, agent); its output is drained and dropped.</summary>
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var process = Process.Start(StartInfo(args, env))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Runs a slipway command to its end and returns its exit code and output. <paramref name="stdin"/> is its
    /// input (closed at once when null, so the command never waits at a prompt); <paramref name="unset"/> names
    /// variables of the test host's environment the command must not see (e.g. a token).
    /// </summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? stdin = null, IEnumerable<string>? unset = null)
    {
        var psi = StartInfo(args, env);
        foreach (var name in unset ?? []) psi.Environment.Remove(name);
        psi.RedirectStandardInput = true;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
