using Slipway.Agent.Execution;
using Slipway.Testing;

namespace Slipway.Agent.Tests;

/// <summary>
/// Issue 11: a job's workspace is the job's to shape, links included, but the agent (which may run as root and sits
/// outside the sandbox) never follows a link out of it: not when publishing artifacts or reports, not when placing
/// downloaded artifacts.
/// </summary>
public sealed class WorkspaceLinkTests : IDisposable
{
    private readonly TempDirectory _work = new("slipway-ws");
    private readonly TempDirectory _outside = new("slipway-outside");
    private readonly Workspace _workspace;

    public WorkspaceLinkTests()
    {
        _workspace = Workspace.Create(_work.Path, 1, "lease-0123456789");
        File.WriteAllText(Path.Combine(_outside.Path, "secret.txt"), "server secret");
        Directory.CreateDirectory(Path.Combine(_workspace.Source, "out"));
        File.WriteAllText(Path.Combine(_workspace.Source, "out", "app.bin"), "built");
    }

    public void Dispose()
    {
        _workspace.Dispose();
        _work.Dispose();
        _outside.Dispose();
    }

    [Fact]
    public void LinksToFilesAndFoldersOutside_ArePublishedAsNothing_AndNamedForTheLog()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Source, "out", "secret.txt"), Path.Combine(_outside.Path, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Source, "out", "etc"), "/etc");
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Source, "out", "elsewhere"), _outside.Path);
        var skipped = new List<string>();

        var found = _workspace.Find(["out/**"], skipped);

        Assert.Equal(["out/app.bin"], found);
        Assert.Equal(["out/elsewhere", "out/etc", "out/secret.txt"], skipped.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void APipeOrSocketLeftInTheWorkspace_IsNotPublished_SoTheAgentNeverWaitsOnIt()
    {
        var pipe = Path.Combine(_workspace.Source, "out", "report.xml");
        var made = ProcessRunner.Run("/usr/bin/mkfifo", [pipe], null, null, TimeSpan.FromSeconds(10));
        Assert.Equal(0, made.ExitCode);
        var skipped = new List<string>();

        var found = _workspace.Find(["out/*"], skipped);

        Assert.Equal(["out/app.bin"], found);
        Assert.Equal(["out/report.xml"], skipped);
    }

    [Fact]
    public void APathThroughALinkedFolder_OrOutOfTheWorkspace_IsRefused()
    {
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Source, "linked"), _outside.Path);
        File.CreateSymbolicLink(Path.Combine(_workspace.Source, "out", "file-link"), Path.Combine(_outside.Path, "secret.txt"));

        Assert.Contains("symbolic link 'linked'", Assert.Throws<InvalidDataException>(() => _workspace.SafePath("linked/secret.txt")).Message);
        Assert.Contains("symbolic link 'out/file-link'", Assert.Throws<InvalidDataException>(() => _workspace.SafePath("out/file-link")).Message);
        Assert.Contains("leaves the workspace", Assert.Throws<InvalidDataException>(() => _workspace.SafePath("../../../secret.txt")).Message);
        Assert.Equal(Path.Combine(_workspace.Source, "out", "app.bin"), _workspace.SafePath("out/app.bin"));
        Assert.Equal(Path.Combine(_workspace.Source, "new", "file"), _workspace.SafePath("new/file")); // not there yet: fine
    }
}
