using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Deployments;

/// <summary>
/// A server with project "shop" whose releases deploy through the pipeline file's deploy section, environments
/// staging (auto-deploy) and production (deployers: analysts and admins; one approval by an analyst), analysts ann and bob,
/// developer dev. The verify step fails on an environment when the release contains the file BROKEN-ENV.
/// </summary>
public sealed class DeploymentKit : IAsyncDisposable
{
    public const string Pipeline = """
        stages:
          - name: build
            jobs:
              - name: pack
                run: |
                  mkdir -p dist && echo "app $(cat VERSION)" > dist/app.txt
                artifacts: [dist/app.txt]
        release:
          branch: main
          version: "1.0.{run}"
        deploy:
          run: echo "deploying $SLIPWAY_RELEASE to $SLIPWAY_ENVIRONMENT (previous $SLIPWAY_PREVIOUS_RELEASE) with $(cat pack/dist/app.txt)"
          verify: test ! -e "BROKEN-$SLIPWAY_ENVIRONMENT"
          rollback: auto
        """;

    public required SlipwayTestServer Server { get; init; }
    public required GitRepository Repo { get; init; }
    public required SlipwayClient Ann { get; init; }
    public required SlipwayClient Bob { get; init; }
    public required SlipwayClient Dev { get; init; }
    public SlipwayClient Admin => Server.Client;

    public static async Task<DeploymentKit> StartAsync(string productionPool = "build", int productionApprovals = 1, string pipeline = Pipeline,
        Action<Hosting.ServerOptions>? configure = null)
    {
        var server = await SlipwayTestServer.StartAsync(o => { o.PollInterval = TimeSpan.FromHours(1); configure?.Invoke(o); });
        var repo = Pipelines.Repo(pipeline, ("VERSION", "1"));
        await server.Client.CreateProjectAsync("shop", repo.Path, "main");
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("staging", 0, false, "build", [], 0, null, true, null));
        await server.Client.CreateEnvironmentAsync("shop", new EnvironmentRequest("production", 1, false, productionPool, ["role:analyst", "role:admin"], productionApprovals, "analyst", false, null));
        var kit = new DeploymentKit
        {
            Server = server, Repo = repo,
            Ann = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "ann", BuiltInRoles.Analyst)),
            Bob = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "bob", BuiltInRoles.Analyst)),
            Dev = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer)),
        };
        return kit;
    }

    /// <summary>Commits on main, lets the server see it, and waits for the release of that commit.</summary>
    public async Task<string> ReleaseAsync(string message, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files) Repo.WriteFile(path, content);
        var sha = Repo.Commit(message);
        var project = await Server.Service<ProjectStore>().FindAsync("shop");
        await Server.Service<ChangeDetector>().CheckAsync(project!);
        return (await WaitAsync(async () => (await Admin.ListReleasesAsync("shop")).FirstOrDefault(r => r.Commit == sha), "release of " + sha[..8])).Version;
    }

    /// <summary>Waits until the deployment reaches a final state (or <paramref name="until"/> holds).</summary>
    public Task<DeploymentDto> WaitForDeploymentAsync(long number, Func<DeploymentDto, bool>? until = null) =>
        WaitAsync(async () =>
        {
            var d = await Admin.GetDeploymentAsync("shop", number);
            return (until ?? (x => x.State is "succeeded" or "failed" or "cancelled" or "rejected" or "superseded" or "unknown"))(d) ? d : null;
        }, $"deployment #{number}");

    /// <summary>Promotes the release on staging to production (ann asks, bob approves) and waits for it to succeed.</summary>
    public async Task PromotedToProductionAsync()
    {
        var d = await Ann.PromoteAsync("shop", "production");
        await Bob.ApproveDeploymentAsync("shop", d.Number, null);
        Assert.Equal("succeeded", (await WaitForDeploymentAsync(d.Number)).State);
    }

    /// <summary>Waits until staging has a succeeded deployment of <paramref name="version"/> (auto-deploy).</summary>
    public Task<DeploymentDto> OnStagingAsync(string version) =>
        WaitAsync(async () => (await Admin.ListDeploymentsAsync("shop", "staging")).FirstOrDefault(x => x.Release == version && x.State == "succeeded"),
            $"{version} on staging");

    public static Task<T> WaitAsync<T>(Func<Task<T?>> probe, string what, int seconds = 60) where T : class =>
        Eventually.ValueAsync(probe, TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        Ann.Dispose();
        Bob.Dispose();
        Dev.Dispose();
        await Server.DisposeAsync();
        Repo.Dispose();
    }
}
