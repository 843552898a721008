using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>
/// A server with an external project "shop" (a real git repository on disk), its key prefix SHOP, item SHOP-1, and
/// the users of the flow: developers dev1 and dev2, and "tester", a developer whose e-mail is the test commits'
/// author e-mail (so the server sees them as the author of every commit made with <see cref="GitRepository"/>).
/// </summary>
public sealed class ChangeRequestKit : IAsyncDisposable
{
    /// <summary>A job that fails when the file FAIL exists, and sleeps while SLOW exists.</summary>
    public const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: test
                run: |
                  while test -e SLOW; do sleep 0.2; done
                  test ! -e FAIL
        release:
          branch: main
          version: "1.0.{run}"
        """;

    public required SlipwayTestServer Server { get; init; }
    public required GitRepository Repo { get; init; }
    public required SlipwayClient Dev1 { get; init; }
    public required SlipwayClient Dev2 { get; init; }
    public required SlipwayClient Tester { get; init; }

    public static async Task<ChangeRequestKit> StartAsync(Action<Hosting.ServerOptions>? configure = null, string pipeline = Pipeline)
    {
        var server = await SlipwayTestServer.StartAsync(o => { o.PollInterval = TimeSpan.FromHours(1); configure?.Invoke(o); });
        var repo = Pipelines.Repo(pipeline, ("app.txt", "v0\n"));
        // Slipway pushes merges into this repository while main is checked out: let the push update the clean work tree.
        repo.Run("config", "receive.denyCurrentBranch", "updateInstead");
        Assert.Equal("succeeded", (await server.CreateProjectAndWaitAsync("shop", repo.Path)).Status);
        await server.Client.SetItemKeyAsync("shop", "SHOP");
        await server.Client.CreateWorkItemAsync("shop", "Cart shows the total");
        var dev1 = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev1", BuiltInRoles.Developer));
        var dev2 = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev2", BuiltInRoles.Developer));
        using (var admin = Admin(server))
            await Expect(await admin.PostAsync("/api/v1/users", Body(new CreateUserRequest("tester", "Slipway Tests", "tests@slipway.invalid", Password))),
                System.Net.HttpStatusCode.Created);
        await GrantAsync(server, "tester", BuiltInRoles.Developer);
        var tester = new SlipwayClient(server.Url, (await LoginAsync(server, "tester")).Token);
        return new ChangeRequestKit { Server = server, Repo = repo, Dev1 = dev1, Dev2 = dev2, Tester = tester };
    }

    /// <summary>Makes <paramref name="branch"/> from main with one commit writing <paramref name="file"/>, then lets the server see it.</summary>
    public async Task<string> BranchAsync(string branch, string file, string content, string message, string from = "main")
    {
        Repo.Checkout(from);
        Repo.Run("checkout", "-q", "-b", branch);
        Repo.WriteFile(file, content);
        var sha = Repo.Commit(message);
        Repo.Checkout("main");
        await DetectAsync();
        return sha;
    }

    /// <summary>Adds a commit to an existing branch and lets the server see it.</summary>
    public async Task<string> CommitOnAsync(string branch, string file, string content, string message)
    {
        Repo.Checkout(branch);
        Repo.WriteFile(file, content);
        var sha = Repo.Commit(message);
        Repo.Checkout("main");
        await DetectAsync();
        return sha;
    }

    /// <summary>What a push webhook does: fetch now and start runs of moved branches.</summary>
    public async Task DetectAsync()
    {
        var project = await Server.Service<ProjectStore>().FindAsync("shop");
        await Server.Service<ChangeDetector>().CheckAsync(project!);
    }

    /// <summary>Waits for the newest run of <paramref name="commit"/> to finish; returns its status.</summary>
    public async Task<string> WaitForCommitAsync(string commit)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = (await Server.Client.ListRunsAsync("shop")).FirstOrDefault(r => r.Commit == commit);
            if (run is not null)
            {
                var done = await Server.WaitForRunAsync(run.Id);
                return done.Status;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no run of {commit}");
            await Task.Delay(50);
        }
    }

    /// <summary>A branch whose run went green, and a change request for it opened by dev1.</summary>
    public async Task<ChangeRequestDto> GreenChangeRequestAsync(string branch, string file, string title = "Cart total", string? content = null)
    {
        var sha = await BranchAsync(branch, file, content ?? $"{branch}\n", $"{title} in {file}");
        Assert.Equal("succeeded", await WaitForCommitAsync(sha));
        return await Dev1.OpenChangeRequestAsync("shop", new OpenChangeRequestRequest(title, null, branch, null));
    }

    /// <summary>Asserts the call is refused with <paramref name="status"/>; returns the refusal (its message is the server's).</summary>
    public static async Task<SlipwayApiException> Refused(Func<Task> call, System.Net.HttpStatusCode status)
    {
        var e = await Assert.ThrowsAsync<SlipwayApiException>(call);
        Assert.Equal(status, e.Status);
        return e;
    }

    public string Git(params string[] args) => Repo.Run(args).Trim();

    public async ValueTask DisposeAsync()
    {
        Dev1.Dispose();
        Dev2.Dispose();
        Tester.Dispose();
        await Server.DisposeAsync();
        Repo.Dispose();
    }
}
