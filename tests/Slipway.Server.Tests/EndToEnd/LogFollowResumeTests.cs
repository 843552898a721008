using Slipway.Testing;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>
/// <c>slipway logs --follow</c> when its stream is cut (the node serving it stopped or died, a balancer's timeout): it follows
/// again from the last byte it printed, so the output is the whole log, each line once.
/// </summary>
public sealed class LogFollowResumeTests
{
    [Fact]
    public async Task LogsFollow_CutTwiceMidStream_FollowsAgainFromTheLastByte_NoLineLostOrTwice()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var repo = Pipelines.Repo(Pipelines.OneJob("for i in $(seq 1 20); do echo line-$i; sleep 0.25; done"));
        await server.Client.CreateProjectAsync("p", repo.Path, "main");
        var run = (await server.Client.ListRunsAsync("p")).Single().Id;
        await using var proxy = new CuttableProxy(server.Url);

        var cli = CliRunner.RunAsync(new Dictionary<string, string?>
        {
            ["SLIPWAY_SERVER"] = proxy.Url, // every request of the CLI through the proxy
            ["SLIPWAY_TOKEN"] = SlipwayTestServer.AdminToken,
            ["XDG_CONFIG_HOME"] = Path.Combine(server.Options.FullDataDirectory, "follow-cli-config"),
        }, null, "logs", run.ToString(), "--job", "j", "--follow");
        var cuts = 0;
        foreach (var seen in new[] { "line-4\n", "line-12\n" })
        {
            await Eventually.ValueAsync(async () => (await server.Client.GetLogAsync(run, "j", 0)).Text.Contains(seen) ? "" : null,
                TimeSpan.FromSeconds(30), $"the job to print {seen.Trim()}");
            // The CLI follows through the proxy by then (it starts, and after a cut comes back, within a second or two).
            await Eventually.ValueAsync(() => Task.FromResult(proxy.Open > 0 ? "" : null), TimeSpan.FromSeconds(15), "the CLI's stream through the proxy");
            cuts += proxy.CutAll();
        }
        var (exit, output, errors) = await cli;
        var finished = await server.WaitForRunAsync(run);

        Assert.Equal("succeeded", finished.Status);
        Assert.True(cuts >= 2, $"only {cuts} connections were open to cut");
        Assert.True(exit == 0, errors);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"line-{i}"),
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("line-", StringComparison.Ordinal)));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(errors, @"the log stream was cut \(.*\); following again from byte [1-9]\d*").Count);
    }
}
