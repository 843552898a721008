using System.Net;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;
using static Slipway.Server.Tests.ChangeRequests.ChangeRequestKit;

namespace Slipway.Server.Tests.ChangeRequests;

/// <summary>
/// An external repository that needs a credential: Slipway fetches it and pushes merges to it over HTTP with the stored
/// credential. The remote here is another project's hosted repository on the same server (real smart HTTP, real token).
/// </summary>
public sealed class ExternalRemoteTests
{
    [Fact]
    public async Task MergesArePushedToTheExternalRemote_WithTheStoredCredential_WhichIsNeverShown()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        using var admin = Admin(server);
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "origin", hosted = true })), HttpStatusCode.Created);
        var pusher = await UserWithRoleAsync(server, "pusher", BuiltInRoles.Developer);
        var uri = new Uri(server.Url);
        var remote = $"http://{uri.Host}:{uri.Port}/git/origin.git";

        // Seed the hosted repository: main with a pipeline, develop, and a feature branch.
        using var seed = Pipelines.Repo(Pipelines.OneJob("echo ok"));
        seed.CreateBranch("develop");
        seed.Run("checkout", "-q", "-b", "feature/ext");
        seed.WriteFile("ext.txt", "ext\n");
        seed.Commit("ext change");
        var withToken = $"http://x:{pusher}@{uri.Host}:{uri.Port}/git/origin.git";
        seed.Run("push", "-q", withToken, "main", "develop", "feature/ext");

        // Without a credential the remote refuses the clone, and git's reason is given.
        var refused = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.CreateProjectAsync("ext", remote, "main"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("cannot fetch", refused.Message);

        const string Secret = "slp_not-a-real-token-but-a-long-secret";
        var wrong = await Assert.ThrowsAsync<SlipwayApiException>(() => server.Client.CreateProjectAsync("ext", remote, "main", "x", Secret));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status); // a wrong password is refused too, with git's reason
        Assert.Contains("cannot fetch", wrong.Message);
        Assert.DoesNotContain(Secret, wrong.Message);
        var created = await server.Client.CreateProjectAsync("ext", remote, "main", "x", pusher);
        Assert.Equal("ext", created.Name);
        var dev2 = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev2", BuiltInRoles.Developer));
        await server.Client.SetMergeRulesAsync("ext", "develop", 1, null);

        // The branch existed when the project was made (only the default branch runs then): run it by hand.
        var run = await server.Client.StartRunAsync("ext", "feature/ext", null);
        Assert.Equal("succeeded", (await server.WaitForRunAsync(run.Id)).Status);
        var cr = await server.Client.OpenChangeRequestAsync("ext", new OpenChangeRequestRequest("External change", null, "feature/ext", "develop"));
        await dev2.ReviewChangeRequestAsync("ext", cr.Number, "approve", null);
        var merged = await server.Client.MergeChangeRequestAsync("ext", cr.Number, null);

        Assert.Equal("merged", merged.State);
        seed.Run("fetch", "-q", withToken, "develop");
        Assert.Equal(merged.MergeCommit, seed.Run("rev-parse", "FETCH_HEAD").Trim());
        // The password is not in any answer about the project, nor in the askpass helper Slipway wrote.
        var projectJson = await (await admin.GetAsync("/api/v1/projects/ext")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(pusher, projectJson);
        Assert.DoesNotContain(pusher, await File.ReadAllTextAsync(Path.Combine(server.Options.FullDataDirectory, "git-askpass")));
        Assert.DoesNotContain(pusher, await File.ReadAllTextAsync(Path.Combine(server.Options.FullDataDirectory, "mirrors", "ext.git", "config")));
        dev2.Dispose();
    }

    [Fact]
    public async Task TheCredential_IsAdminOnly_AndHostedProjectsNeedNone()
    {
        await using var server = await SlipwayTestServer.StartAsync();
        using var admin = Admin(server);
        var keep = new List<IDisposable>();
        await CreateProjectAsync(server, "shop", keep);
        await Expect(await admin.PostAsync("/api/v1/projects", Body(new { name = "hosted", hosted = true })), HttpStatusCode.Created);
        var dev = new SlipwayClient(server.Url, await UserWithRoleAsync(server, "dev", BuiltInRoles.Developer));
        await Refused(() => dev.SetGitCredentialAsync("shop", "u", "p"), HttpStatusCode.Forbidden);
        await Refused(() => server.Client.SetGitCredentialAsync("hosted", "u", "p"), HttpStatusCode.BadRequest);
        await Refused(() => server.Client.SetGitCredentialAsync("shop", "u\nx", "p"), HttpStatusCode.BadRequest);
        await server.Client.SetGitCredentialAsync("shop", "u", "p-secret-value");
        var audit = await AuditAsync(server, "action=repo.credential");
        Assert.Contains(audit, e => e.Outcome == "succeeded" && e.Detail!.Contains("user 'u'") && !e.Detail.Contains("p-secret-value"));
        Assert.Contains(audit, e => e.Outcome == "denied" && e.Actor == "dev");
        dev.Dispose();
        keep.ForEach(k => k.Dispose());
    }
}
