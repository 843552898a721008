using System.Diagnostics;
using Slipway.Agent.Execution;
using Slipway.Agent.Sandbox;
using Slipway.Testing;

namespace Slipway.Agent.Tests;

/// <summary>The real sandbox (bubblewrap) around a real shell: what a job sees and may change.</summary>
public sealed class JobSandboxTests : IDisposable
{
    private readonly TempDirectory _work = new("slipway-sbx-work");
    private readonly TempDirectory _private = new("slipway-sbx-private");

    public JobSandboxTests() => File.WriteAllText(Path.Combine(_private.Path, "key"), "private key");

    public void Dispose()
    {
        _work.Dispose();
        _private.Dispose();
    }

    private JobSandbox Sandbox() => JobSandbox.Create(new AgentOptions
    {
        WorkDirectory = _work.Path, Sandbox = SandboxMode.Bubblewrap, SandboxHide = [_private.Path],
    });

    /// <summary>Runs <paramref name="script"/> in the sandbox in a fresh workspace; returns its exit code and output.</summary>
    private static (int Exit, string Output) Run(JobSandbox sandbox, Workspace workspace, string script)
    {
        sandbox.Prepare(workspace);
        var (program, args) = sandbox.Wrap(workspace, "/bin/bash");
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Append("-c").Append(script)) psi.ArgumentList.Add(a);
        var env = new Dictionary<string, string>();
        sandbox.AdjustEnvironment(env, workspace);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "the sandboxed script did not end");
        return (process.ExitCode, output.Result + error.Result);
    }

    [Fact]
    public void AJob_WritesItsWorkspaceAndTemporaryFolder_ButSeesNoHiddenFolder_NoOtherWorkspace_AndChangesNothingElse()
    {
        var sandbox = Sandbox();
        using var other = Workspace.Create(_work.Path, 1, "other-lease-000");
        File.WriteAllText(Path.Combine(other.Source, "their-secret"), "theirs");
        using var workspace = Workspace.Create(_work.Path, 2, "own-lease-00000");

        var (exit, output) = Run(sandbox, workspace, $"""
            echo built > built.txt && echo "wrote workspace"
            echo x > /tmp/x && echo "wrote tmp"
            [ -e "{_private.Path}/key" ] || echo "private hidden"
            [ -z "$(ls -A "{_work.Path}/jobs" | grep -v -x "$(basename "$(dirname "$PWD")")")" ] && echo "other workspaces hidden"
            touch /usr/pwned 2>/dev/null || echo "system read-only"
            [ "$HOME" = "{workspace.Home}" ] && [ -w "$HOME" ] && echo "home is the workspace's"
            echo "pid $$"
            """);

        Assert.Equal(0, exit);
        foreach (var line in new[] { "wrote workspace", "wrote tmp", "private hidden", "other workspaces hidden", "system read-only", "home is the workspace's" })
            Assert.Contains(line, output);
        Assert.Equal("built\n", File.ReadAllText(Path.Combine(workspace.Source, "built.txt")));
        Assert.True(File.Exists(Path.Combine(_private.Path, "key")));
        Assert.False(File.Exists("/usr/pwned"));
        Assert.Matches(@"pid [0-9]\b", output); // its own PID namespace: the shell is one of its first processes
    }

    [Fact]
    public void AsRoot_TheJobRunsAsTheUnprivilegedAccount_WithNoCapabilities_AndOwnsItsWorkspace()
    {
        var sandbox = Sandbox();
        using var workspace = Workspace.Create(_work.Path, 3, "lease-root-000");

        var (exit, output) = Run(sandbox, workspace, "id -u; grep ^CapEff /proc/self/status; grep ^NoNewPrivs /proc/self/status; touch ok && echo wrote");

        Assert.Equal(0, exit);
        Assert.Contains("CapEff:\t0000000000000000", output);
        Assert.Contains("NoNewPrivs:\t1", output);
        Assert.Contains("wrote", output);
        if (sandbox.RunAs is { } account)
        {
            Assert.Equal(Environment.UserName == "root" ? "nobody" : null, account.Name);
            Assert.StartsWith(account.Uid + "\n", output);
        }
        else Assert.NotEqual("root", Environment.UserName);
    }

    [Fact]
    public void ASharedFolder_IsWritableByEveryJob_AndSharingAHiddenOneIsRefusedAtStart()
    {
        using var cache = new TempDirectory("slipway-sbx-cache");
        File.SetUnixFileMode(cache.Path, (UnixFileMode)0x1FF); // the job's account must be able to write it
        var sandbox = JobSandbox.Create(new AgentOptions { WorkDirectory = _work.Path, SandboxShare = [cache.Path], SandboxHide = [_private.Path] });
        using var workspace = Workspace.Create(_work.Path, 4, "lease-share-00");

        var (exit, output) = Run(sandbox, workspace, $"echo cached > \"{cache.Path}/entry\" && echo wrote");

        Assert.True(exit == 0, output);
        Assert.Equal("cached\n", File.ReadAllText(Path.Combine(cache.Path, "entry")));
        var refused = Assert.Throws<SandboxUnavailableException>(() =>
            JobSandbox.Create(new AgentOptions { WorkDirectory = _work.Path, SandboxShare = [_work.Path + "/jobs"] }));
        Assert.Contains("cannot share", refused.Message);
        Assert.Contains("does not exist", Assert.Throws<SandboxUnavailableException>(() =>
            JobSandbox.Create(new AgentOptions { WorkDirectory = _work.Path, SandboxShare = ["/no/such/cache"] })).Message);
    }

    [Fact]
    public void AskingForASandboxAccountThatDoesNotExist_FailsAtStart_SayingWhatToSet()
    {
        var options = new AgentOptions { WorkDirectory = _work.Path, Sandbox = SandboxMode.Bubblewrap, SandboxUser = "no-such-account-x" };
        if (Environment.UserName != "root")
        {
            Assert.Null(JobSandbox.Create(options).RunAs); // the account is used only when the agent runs as root
            return;
        }
        var error = Assert.Throws<SandboxUnavailableException>(() => JobSandbox.Create(options));
        Assert.Contains("SLIPWAY_AGENT_SANDBOX_USER", error.Message);
    }
}
