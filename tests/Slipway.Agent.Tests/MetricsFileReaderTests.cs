using System.Diagnostics;
using Slipway.Agent.Execution;
using Slipway.Testing;

namespace Slipway.Agent.Tests;

/// <summary>
/// The metrics file a job names is read by the agent after the job: a regular file up to 1 MiB only. A hostile job's
/// pipe must not hang the agent, a link must not lead it out of the workspace, and a huge file is refused unread.
/// </summary>
public sealed class MetricsFileReaderTests : IDisposable
{
    private readonly TempDirectory _work = new("slipway-metrics");
    private readonly Workspace _workspace;

    public MetricsFileReaderTests() => _workspace = Workspace.Create(_work.Path, 1, "lease-0123456789");

    public void Dispose()
    {
        _workspace.Dispose();
        _work.Dispose();
    }

    private string InSource(string name) => Path.Combine(_workspace.Source, name);

    [Fact]
    public async Task ARegularFile_IsHandedBackAsText()
    {
        await File.WriteAllTextAsync(InSource("perf.json"), """{"metrics": {}}""");
        var read = await MetricsFileReader.ReadAsync(_workspace, "perf.json", CancellationToken.None);
        Assert.Equal(("perf.json", """{"metrics": {}}""", (string?)null), (read!.Path, read.Text, read.Error));
    }

    [Fact]
    public async Task APipe_IsRefusedAtOnce_NotWaitedOn()
    {
        Process.Start("mkfifo", InSource("perf.json")).WaitForExit();
        var read = MetricsFileReader.ReadAsync(_workspace, "perf.json", CancellationToken.None);
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Contains("is not a regular file", (await read)!.Error);
    }

    [Fact]
    public async Task ALinkOutOfTheWorkspace_IsNotFollowed()
    {
        File.CreateSymbolicLink(InSource("perf.json"), "/etc/passwd");
        var read = await MetricsFileReader.ReadAsync(_workspace, "perf.json", CancellationToken.None);
        Assert.Null(read!.Text);
        Assert.Contains("symbolic link", read.Error);
    }

    [Fact]
    public async Task AFileOverOneMiB_IsRefused_AndAMissingOneSaysSo()
    {
        await File.WriteAllBytesAsync(InSource("big.json"), new byte[2 * 1024 * 1024]);
        Assert.Contains("larger than the 1 MiB", (await MetricsFileReader.ReadAsync(_workspace, "big.json", CancellationToken.None))!.Error);
        Assert.Contains("no such file", (await MetricsFileReader.ReadAsync(_workspace, "none.json", CancellationToken.None))!.Error);
        Assert.Null(await MetricsFileReader.ReadAsync(_workspace, null, CancellationToken.None));
    }
}
