using Slipway.Testing;

namespace Slipway.Server.Tests.Releases;

/// <summary>Versions taken from the newest tag matching a pattern (<c>version: "{tag}"</c>, <c>tag: "v*"</c>).</summary>
public sealed class ReleaseTagTests
{
    private const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: test
                run: "true"
        release:
          branch: main
          version: "{tag}"
          tag: "v*"
        """;

    [Fact]
    public async Task TheVersionIsTheNewestMatchingTag_OneReleasePerTag()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        using var repo = Pipelines.Repo(Pipeline);
        repo.Run("tag", "v1.4.0");
        repo.Run("tag", "other-9");
        var first = await server.CreateProjectAndWaitAsync("shop", repo.Path);
        Assert.Equal("succeeded", first.Status);
        await WaitForAsync(async () => (await server.Client.ListReleasesAsync("shop")).Any(r => r.Version == "1.4.0"));

        // A commit without a new tag: its version (1.4.0) is taken, so it is not released.
        repo.WriteFile("a.txt", "a");
        var untagged = repo.Commit("no tag");
        await DetectAsync(server);
        // A new tag gives a new release.
        repo.WriteFile("b.txt", "b");
        var tagged = repo.Commit("tagged");
        repo.Run("tag", "v1.5.0");
        await DetectAsync(server);

        await WaitForAsync(async () => (await server.Client.ListReleasesAsync("shop")).Any(r => r.Version == "1.5.0"));
        var releases = await server.Client.ListReleasesAsync("shop");
        Assert.Equal(["1.5.0", "1.4.0"], releases.Select(r => r.Version));
        Assert.Equal(tagged, releases[0].Commit);
        Assert.DoesNotContain(releases, r => r.Commit == untagged);
    }

    private static async Task DetectAsync(SlipwayTestServer server)
    {
        var project = await server.Service<ProjectStore>().FindAsync("shop");
        await server.Service<ChangeDetector>().CheckAsync(project!);
        foreach (var run in await server.Client.ListRunsAsync("shop")) await server.WaitForRunAsync(run.Id);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(100);
        }
    }
}
