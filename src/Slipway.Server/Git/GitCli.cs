using System.Diagnostics;
using System.Text;
using Slipway.Core.Repositories;

namespace Slipway.Server.Git;

/// <summary>The result of one git command. Output is bytes-decoded as UTF-8 (invalid bytes replaced).</summary>
public sealed record GitResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>Git's own error message, with the user information of any URL in it replaced by ***, since git may echo an address.</summary>
public sealed class GitException(string message) : Exception(RepositoryUrl.Redact(message));

/// <summary>
/// Runs <c>/usr/bin/git</c>. Every argument (branch names, URLs, paths) is passed through ArgumentList,
/// never through a shell. Git never prompts (GIT_TERMINAL_PROMPT=0) and ignores the machine's system config.
/// Git may only use the transports Slipway accepts (GIT_ALLOW_PROTOCOL): never a remote helper such as <c>ext::</c>
/// (runs a command) or <c>fd::</c>, and local paths only where a caller allows them for a repository on this disk
/// (<see cref="AllowedProtocols"/>) — a defence behind the check of every repository address at project creation.
/// </summary>
public static class GitCli
{
    public static string Executable { get; set; } = File.Exists("/usr/bin/git") ? "/usr/bin/git" : "git";

    /// <summary>The value of GIT_ALLOW_PROTOCOL: the network transports, and <c>file</c> (local paths) only when asked for.</summary>
    public static string AllowedProtocols(bool local) => local ? "http:https:ssh:git:file" : "http:https:ssh:git";

    /// <summary>How every git process is started: arguments as a list, never prompting, no system config.</summary>
    public static ProcessStartInfo StartInfo(string? workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_ASKPASS"] = "/bin/false";
        psi.Environment["SSH_ASKPASS"] = "/bin/false";
        psi.Environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["GIT_ALLOW_PROTOCOL"] = AllowedProtocols(local: false);
        // Caller-given values (a commit's author, a credential for the askpass helper) travel as environment
        // variables, never as shell text.
        if (env is not null) foreach (var (key, value) in env) psi.Environment[key] = value;
        return psi;
    }

    /// <param name="input">Written to git's standard input (for --stdin: lists too long for a command line), or null.</param>
    public static async Task<GitResult> RunAsync(string? workingDirectory, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct = default,
        IReadOnlyDictionary<string, string>? env = null, string? input = null)
    {
        var psi = StartInfo(workingDirectory, args, env);
        using var process = Process.Start(psi) ?? throw new GitException("could not start git");
        // Written while the output is read below (git may answer before it has read everything), and awaited before the
        // process is disposed.
        var writing = input is null ? Task.CompletedTask : WriteInputAsync(process.StandardInput, input);
        if (input is null) process.StandardInput.Close();
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeoutCts.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeoutCts.Token);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token);
            await writing;
            return new GitResult(process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await writing; // ends with the process: its pipe breaks
            if (ct.IsCancellationRequested) throw;
            throw new GitException($"git {string.Join(' ', psi.ArgumentList.Take(2))} timed out after {timeout.TotalSeconds:0} s");
        }
    }

    private static async Task WriteInputAsync(StreamWriter writer, string input)
    {
        try { await writer.WriteAsync(input); }
        catch (IOException) { } // git stopped reading: its exit code says why
        finally { try { writer.Close(); } catch (IOException) { } }
    }

    /// <summary>Runs git and returns stdout, or throws with git's own error message.</summary>
    public static async Task<string> OutputAsync(string? workingDirectory, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct = default,
        IReadOnlyDictionary<string, string>? env = null, string? input = null)
    {
        var result = await RunAsync(workingDirectory, args, timeout, ct, env, input);
        if (!result.Ok) throw new GitException(result.Stderr.Trim() is { Length: > 0 } e ? e : $"git exited with {result.ExitCode}");
        return result.Stdout;
    }
}
