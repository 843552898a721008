using Slipway.Agent.Sandbox;

namespace Slipway.Agent.Tests;

/// <summary>The sandbox's command line as a pure function of its layout (ADR 0006): each rule without starting anything.</summary>
public sealed class BubblewrapArgumentsTests
{
    private static SandboxLayout Layout(string workspace = "/data/agent/jobs/7-abc", string[]? hidden = null, string[]? masked = null,
        JobAccount? runAs = null) =>
        new(workspace, workspace + "/src", hidden ?? [], masked ?? [], runAs);

    /// <summary>The index of the option <paramref name="option"/> followed by <paramref name="values"/>, or -1.</summary>
    private static int IndexOf(IReadOnlyList<string> args, string option, params string[] values)
    {
        for (var i = 0; i + values.Length < args.Count; i++)
            if (args[i] == option && values.Select((v, k) => args[i + 1 + k] == v).All(x => x)) return i;
        return -1;
    }

    [Fact]
    public void EveryJob_GetsTheMachineReadOnly_ItsOwnProcessesAndTemporaryFolders_AndDiesWithTheAgent()
    {
        var args = BubblewrapArguments.For(Layout());

        Assert.Equal(0, IndexOf(args, "--die-with-parent"));
        Assert.Contains("--unshare-pid", args);
        Assert.Contains("--unshare-ipc", args);
        Assert.True(IndexOf(args, "--ro-bind", "/", "/") >= 0);
        Assert.True(IndexOf(args, "--proc", "/proc") >= 0);
        Assert.True(IndexOf(args, "--dev", "/dev") >= 0);
        Assert.True(IndexOf(args, "--perms", "1777", "--tmpfs", "/tmp") >= 0);
        Assert.True(IndexOf(args, "--perms", "1777", "--tmpfs", "/var/tmp") >= 0);
        Assert.True(IndexOf(args, "--bind", "/data/agent/jobs/7-abc", "/data/agent/jobs/7-abc") >= 0);
        Assert.True(IndexOf(args, "--chdir", "/data/agent/jobs/7-abc/src") >= 0);
        Assert.Equal("--", args[^1]);
        Assert.DoesNotContain("--share-net", args); // the network is shared by default; nothing else is
        Assert.DoesNotContain(BubblewrapArguments.Setpriv, args);
    }

    [Fact]
    public void AHiddenFolderHoldingTheWorkspace_IsEmptied_ThenTheWayToTheWorkspaceIsMade_ThenTheWorkspaceBoundBack()
    {
        var args = BubblewrapArguments.For(Layout(hidden: ["/data"]));

        var emptied = IndexOf(args, "--tmpfs", "/data");
        var agent = IndexOf(args, "--perms", "0755", "--dir", "/data/agent");
        var jobs = IndexOf(args, "--perms", "0755", "--dir", "/data/agent/jobs");
        var bound = IndexOf(args, "--bind", "/data/agent/jobs/7-abc", "/data/agent/jobs/7-abc");
        Assert.True(emptied >= 0 && emptied < agent && agent < jobs && jobs < bound, string.Join(' ', args));
        Assert.Equal(-1, IndexOf(args, "--dir", "/data/agent/jobs/7-abc")); // the workspace itself is the bind
    }

    [Fact]
    public void HiddenFolders_AreMountedParentsFirst_AndOnesAlreadyInvisibleOrInsideTheWorkspace_AreLeftOut()
    {
        var args = BubblewrapArguments.For(Layout(hidden: ["/data/keys", "/home/dev/", "/data", "/tmp/cache", "/data/agent/jobs/7-abc/src/own", "/home/dev"]));

        var tmpfs = args.Select((a, i) => (a, i)).Where(x => x.a == "--tmpfs").Select(x => args[x.i + 1]).ToList();
        Assert.Equal(["/tmp", "/var/tmp", "/data", "/home/dev"], tmpfs);
    }

    [Fact]
    public void SocketsAreMaskedWithAnEmptyDevice_UnlessAlreadyInsideAnEmptiedFolder()
    {
        var args = BubblewrapArguments.For(Layout(hidden: ["/run/user"], masked: ["/run/docker.sock", "/run/user/1000/podman/podman.sock", "/run/docker.sock"]));

        Assert.True(IndexOf(args, "--ro-bind", "/dev/null", "/run/docker.sock") >= 0);
        Assert.Equal(1, args.Count(a => a == "/run/docker.sock"));
        Assert.DoesNotContain("/run/user/1000/podman/podman.sock", args);
    }

    [Fact]
    public void AsRoot_TheJobSwitchesToTheUnprivilegedAccount_KeepingOnlyTheCapabilitiesToDoSo_AndDroppingThemAll()
    {
        var args = BubblewrapArguments.For(Layout(runAs: new JobAccount("nobody", 65534, 65534)));

        var separator = args.ToList().IndexOf("--");
        Assert.Equal(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"], args.Take(separator).TakeLast(6));
        Assert.Equal([BubblewrapArguments.Setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"],
            args.Skip(separator + 1));
    }

    [Fact]
    public void ASharedFolder_IsBoundReadWriteAfterTheWorkspace_AndOneThatClashesWithAHiddenFolderOrTheWorkspace_IsRefused()
    {
        var args = BubblewrapArguments.For(Layout(hidden: ["/data"]) with { Shared = ["/srv/cache", "/tmp/ci/cache"] });
        var shared = IndexOf(args, "--bind", "/srv/cache", "/srv/cache");
        Assert.True(shared > IndexOf(args, "--bind", "/data/agent/jobs/7-abc", "/data/agent/jobs/7-abc"));
        // Inside the fresh /tmp, the way to it is made traversable first.
        var way = IndexOf(args, "--perms", "0755", "--dir", "/tmp/ci");
        Assert.True(way >= 0 && way < IndexOf(args, "--bind", "/tmp/ci/cache", "/tmp/ci/cache"));

        Assert.Contains("is inside the hidden folder '/data'",
            Assert.Throws<ArgumentException>(() => BubblewrapArguments.For(Layout(hidden: ["/data"]) with { Shared = ["/data/keys"] })).Message);
        Assert.Contains("holds the hidden folder '/data/keys'",
            Assert.Throws<ArgumentException>(() => BubblewrapArguments.For(Layout(hidden: ["/data/keys"]) with { Shared = ["/data"] })).Message);
        Assert.Contains("root folder", Assert.Throws<ArgumentException>(() => BubblewrapArguments.For(Layout() with { Shared = ["/"] })).Message);
        Assert.Contains("overlaps the job's workspace",
            Assert.Throws<ArgumentException>(() => BubblewrapArguments.For(Layout() with { Shared = ["/data/agent"] })).Message);
    }

    [Theory]
    [InlineData("relative/ws")]
    [InlineData("/")]
    public void AWorkspaceThatIsNotAnAbsoluteFolderBelowTheRoot_IsRefused(string workspace)
    {
        Assert.Throws<ArgumentException>(() => BubblewrapArguments.For(Layout(workspace: workspace)));
    }

    [Fact]
    public void TrailingSlashesAndDotsInPaths_DoNotChangeTheLayout()
    {
        Assert.Equal(BubblewrapArguments.For(Layout(hidden: ["/data"])), BubblewrapArguments.For(new SandboxLayout(
            "/data/agent/./jobs/7-abc/", "/data/agent/jobs/7-abc/src/", ["/data/"], [], null)));
    }
}
