using Slipway.Testing;

namespace Slipway.Server.Tests.Faults;

public sealed class OutputTests
{
    [Fact]
    public async Task JobPrintingOneGigabyte_IsTruncatedWithMarker_AndStillSucceeds()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.LogLimitBytes = 8 * 1024 * 1024);
        using var repo = Pipelines.Repo(Pipelines.OneJob("head -c 1073741824 /dev/zero | tr '\\0' 'x' | fold -w 1000\necho done-after-flood"));
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path, TimeSpan.FromMinutes(3));

        var job = run.Stages[0].Jobs[0];
        Assert.Equal("succeeded", run.Status);
        Assert.True(job.LogTruncated);
        Assert.InRange(job.LogBytes, 8 * 1024 * 1024, 8 * 1024 * 1024 + 4096);
        var tail = await server.Client.GetLogAsync(run.Id, "j", job.LogBytes - 600);
        Assert.Contains("log truncated", tail.Text);
        Assert.True(tail.Truncated);
    }

    [Fact]
    public async Task ArtifactLargerThanKestrelsDefaultBodyLimit_IsUploadedAndPassedOn()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo("""
            stages:
              - name: a
                jobs:
                  - { name: make, run: "mkdir -p out && head -c 41943040 /dev/urandom > out/big.bin && sha256sum out/big.bin", artifacts: [out/*] }
              - name: b
                jobs:
                  - { name: use, run: "sha256sum out/big.bin" }
            """);
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path, TimeSpan.FromMinutes(2));

        Assert.Equal("succeeded", run.Status);
        var artifact = Assert.Single(run.Artifacts);
        Assert.Equal(41943040, artifact.Size);
        Assert.Contains(artifact.Sha256, await server.LogAsync(run.Id, "make"));
        Assert.Contains(artifact.Sha256, await server.LogAsync(run.Id, "use"));
    }

    [Fact]
    public async Task BinaryOutput_IsStoredRaw_AndServedAsSafeText()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("printf 'before\\x00\\xff\\xfe\\x1b[31mred\\x07 after\\n'\nprintf 'caf\\xc3\\xa9\\n'\nhead -c 3000 /dev/urandom\necho\necho end"));
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);
        var text = await server.LogAsync(run.Id, "j");

        Assert.Equal("succeeded", run.Status);
        Assert.DoesNotContain('\0', text);
        Assert.DoesNotContain('\u001b', text);
        Assert.Contains("before\uFFFD", text);
        Assert.Contains("café", text);
        Assert.Contains("end", text);
        var raw = await server.Client.Http.GetByteArrayAsync($"api/v1/runs/{run.Id}/jobs/j/log/raw");
        Assert.Contains((byte)0, raw);
    }

    [Fact]
    public async Task LogPages_NeverSplitAMultiByteCharacter()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("for i in $(seq 1 200); do printf 'ééé€€€😀'; done; echo"));
        var run = await server.CreateProjectAndWaitAsync("p", repo.Path);

        var text = new System.Text.StringBuilder();
        long offset = 0;
        while (true)
        {
            var page = await server.Client.GetLogAsync(run.Id, "j", offset, limit: 7);
            text.Append(page.Text);
            if (page.NextOffset == offset) break;
            offset = page.NextOffset;
        }

        Assert.DoesNotContain('\uFFFD', text.ToString());
        Assert.Contains(string.Concat(Enumerable.Repeat("ééé€€€😀", 200)), text.ToString());
    }

    [Fact]
    public async Task FollowingALog_StreamsLinesWhileTheJobRuns()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("for i in 1 2 3 4; do echo \"tick $i\"; sleep 0.5; done"));
        var id = await server.CreateProjectAsync("p", repo.Path);

        var pages = new List<(DateTime At, string Text)>();
        await foreach (var page in server.Client.FollowLogAsync(id, "j", 0))
            if (page.Text.Length > 0) pages.Add((DateTime.UtcNow, page.Text));

        var all = string.Concat(pages.Select(p => p.Text));
        Assert.Contains("tick 1", all);
        Assert.Contains("tick 4", all);
        Assert.True(pages.Count >= 2, "the log arrived in one piece, not live");
        Assert.Equal("succeeded", (await server.Client.GetRunAsync(id)).Status);
    }
}
