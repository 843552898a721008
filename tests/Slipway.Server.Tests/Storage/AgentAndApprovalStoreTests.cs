using Slipway.Core.ChangeRequests;
using Slipway.Testing;

namespace Slipway.Server.Tests.Storage;

/// <summary>Agent names bound to credentials, agent removal, single approvals and conditional replacements (registration tokens, the webhook secret), on both databases.</summary>
[Collection("postgres")]
public sealed class AgentAndApprovalStoreTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Dialects => MigratedDatabase.Dialects;

    [Theory, MemberData(nameof(Dialects))]
    public async Task ARegistration_WhoseTokenWasRevokedAfterItsAuthentication_DoesNotGoThrough(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var agents = new AgentStore(db);
        var tokenId = await agents.CreateRegistrationTokenAsync("reg-live", "build", true, 1000);
        var (id, _) = await agents.RegisterAsync("first", "build", "", 1, "cred-1", true, 4, 2000, registrationTokenId: tokenId);
        Assert.True(id > 0);
        Assert.True(await agents.RevokeRegistrationTokenAsync(tokenId, 3000));
        Assert.False(await agents.RevokeRegistrationTokenAsync(tokenId, 3500)); // revoked already
        await Assert.ThrowsAsync<RevokedTokenException>(() => agents.RegisterAsync("second", "build", "", 1, "cred-2", true, 4, 4000, registrationTokenId: tokenId));
        Assert.Null(await agents.FindAsync("second"));
        var listed = Assert.Single(await agents.ListRegistrationTokensAsync(5000), t => t.Id == tokenId);
        Assert.Equal(3000, listed.RevokedAt);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AWebhookSecret_IsReplacedOnlyIfItIsStillTheOneRead_SoOfTwoReplacementsAtOnceOneWins(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var projects = new ProjectStore(db);
        var project = (await projects.CreateAsync("p", "/repo", "main", "first", new Dictionary<string, string>(), 1000))!;

        Assert.True(await projects.ReplaceWebhookSecretAsync(project.Id, "first", "second"));
        Assert.False(await projects.ReplaceWebhookSecretAsync(project.Id, "first", "third")); // read "first" too, came second
        Assert.Equal("second", (await projects.GetAsync(project.Id))!.WebhookSecret);
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => projects.ReplaceWebhookSecretAsync(project.Id, "second", $"racer-{i}")));
        Assert.Single(racing, won => won);
        Assert.StartsWith("racer-", (await projects.GetAsync(project.Id))!.WebhookSecret);
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ANameInUse_IsTakenOverOnlyOnRequest_AndRemovalFreesIt(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var agents = new AgentStore(db);

        var (id, _) = await agents.RegisterAsync("ag", "build", "", 1, "hash-1", true, 4, 1000);
        await Assert.ThrowsAsync<AgentNameTakenException>(() => agents.RegisterAsync("ag", "other", "", 1, "hash-2", true, 4, 2000));
        Assert.Equal(("build", "approved"), ((await agents.FindAsync("ag"))!.Pool, (await agents.FindAsync("ag"))!.Status));
        var (sameId, status) = await agents.RegisterAsync("ag", "build", "", 1, "hash-3", false, 4, 3000, takeOver: true);
        Assert.Equal((id, "pending"), (sameId, status));
        Assert.Null(await agents.FindByCredentialAsync("hash-1"));

        Assert.Equal((true, 0L), (await agents.RemoveAsync("ag"))!.Value);
        Assert.Null(await agents.RemoveAsync("ag"));
        Assert.Null(await agents.FindAsync("ag"));
        Assert.Null(await agents.FindByCredentialAsync("hash-3"));
        Assert.Empty(await agents.ListAsync());
        var (newId, _) = await agents.RegisterAsync("ag", "build", "", 1, "hash-4", true, 4, 4000);
        Assert.NotEqual(id, newId);

        await agents.CreateRegistrationTokenAsync("reg-hash", "build", true, 5000, agentName: "embedded");
        Assert.Equal("embedded", (await agents.FindRegistrationTokenAsync("reg-hash", 6000))!.AgentName);
        Assert.Null((await agents.RegistrationTokenStateAsync("reg-hash"))!.RevokedAt);
        await agents.RevokeRegistrationTokenAsync("reg-hash", 6000);
        Assert.Equal(6000, (await agents.RegistrationTokenStateAsync("reg-hash"))!.RevokedAt);
        Assert.Null(await agents.FindRegistrationTokenAsync("reg-hash", 6001));
        Assert.Null(await agents.RegistrationTokenStateAsync("no-such-hash"));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ARegistrationToken_AdmitsAgentsUntilItExpires_AndIsThenListedWithTheRevokedOnes(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var agents = new AgentStore(db);
        var expiring = await agents.CreateRegistrationTokenAsync("reg-expiring", "build", false, 1000, expiresAt: 5000);
        var forever = await agents.CreateRegistrationTokenAsync("reg-forever", "build", false, 1000);

        Assert.Equal(expiring, (await agents.FindRegistrationTokenAsync("reg-expiring", 4999))!.Id);
        var (id, _) = await agents.RegisterAsync("in-time", "build", "", 1, "cred-1", false, 4, 4999, registrationTokenId: expiring);
        Assert.True(id > 0);
        // At its expiry and after: not found for authentication, and refused inside the write (authenticated just before).
        Assert.Null(await agents.FindRegistrationTokenAsync("reg-expiring", 5000));
        await Assert.ThrowsAsync<RevokedTokenException>(() => agents.RegisterAsync("too-late", "build", "", 1, "cred-2", false, 4, 5000, registrationTokenId: expiring));
        Assert.Null(await agents.FindAsync("too-late"));
        Assert.Equal(forever, (await agents.FindRegistrationTokenAsync("reg-forever", long.MaxValue / 2))!.Id);
        // Why it was refused, for the 401: the stored expiry, not revoked.
        Assert.Equal((5000L, (long?)null), ((await agents.RegistrationTokenStateAsync("reg-expiring"))!.ExpiresAt!.Value, (await agents.RegistrationTokenStateAsync("reg-expiring"))!.RevokedAt));
        // The list keeps in force what is in force at the time asked; an expired one is among the newest not in force.
        Assert.Equal([forever, expiring], (await agents.ListRegistrationTokensAsync(4999)).Select(t => t.Id));
        Assert.Equal([forever], (await agents.ListRegistrationTokensAsync(5000, revokedShown: 0)).Select(t => t.Id));
        Assert.Equal([forever, expiring], (await agents.ListRegistrationTokensAsync(5000, revokedShown: 1)).Select(t => t.Id));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task ARegistrationTokenAfterTheNewestSeen_IsMadeOnce_EvenWhenRacing(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var agents = new AgentStore(db);
        Assert.Equal(0, await agents.NewestRegistrationTokenIdAsync());

        // A form shown with no token yet, sent six times at once (a reload, a double click): one token.
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => agents.CreateRegistrationTokenAfterAsync(0, $"hash-{i}", "build", false, 1000)));
        var made = Assert.Single(racing, id => id is not null)!.Value;
        Assert.Equal(made, await agents.NewestRegistrationTokenIdAsync());
        // Sent again later: nothing; a form shown after it: one more; one made elsewhere (the API) makes older forms stale.
        Assert.Null(await agents.CreateRegistrationTokenAfterAsync(0, "hash-again", "build", false, 2000));
        var next = await agents.CreateRegistrationTokenAfterAsync(made, "hash-next", "deploy", true, 3000, "web-4");
        Assert.True(next > made);
        Assert.Equal(("deploy", 1L, "web-4"), ((await agents.FindRegistrationTokenAsync("hash-next", 6000))!.Pool, (await agents.FindRegistrationTokenAsync("hash-next", 6000))!.PreApproved,
            (await agents.FindRegistrationTokenAsync("hash-next", 6000))!.AgentName));
        var api = await agents.CreateRegistrationTokenAsync("hash-api", "build", false, 4000);
        Assert.Null(await agents.CreateRegistrationTokenAfterAsync(next!.Value, "hash-stale", "build", false, 5000));
        Assert.Equal(api, await agents.NewestRegistrationTokenIdAsync());
        Assert.Null(await agents.FindRegistrationTokenAsync("hash-again", 6000));
        Assert.Null(await agents.FindRegistrationTokenAsync("hash-stale", 6000));
    }

    [Theory, MemberData(nameof(Dialects))]
    public async Task AReviewerApprovesAHeadOnce_EvenWhenRacing(string dialect)
    {
        using var db = await MigratedDatabase.OpenAsync(dialect, _dir, postgres);
        var project = (await new ProjectStore(db).CreateAsync("p", "/repo", "main", "secret", new Dictionary<string, string>(), 1000))!;
        var store = new ChangeRequestStore(db);
        var cr = await store.CreateAsync(new NewChangeRequest(project.Id, "t", "", "feature", "main", "dev1", new string('a', 40), [], [], 1000));
        var head = new string('a', 40);

        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => store.AddReviewAsync(cr.Id, "dev2", ReviewVerdict.Approve, "", head, 2000)));
        var comments = await Task.WhenAll(store.AddReviewAsync(cr.Id, "dev2", ReviewVerdict.Comment, "x", head, 3000),
            store.AddReviewAsync(cr.Id, "dev2", ReviewVerdict.Comment, "y", head, 3000));
        var newHead = await store.AddReviewAsync(cr.Id, "dev2", ReviewVerdict.Approve, "", new string('b', 40), 4000);

        Assert.Equal(1, racing.Count(r => r == ApprovalWrite.Added));
        Assert.All(racing.Where(r => r != ApprovalWrite.Added), r => Assert.Equal(ApprovalWrite.AlreadyGiven, r));
        Assert.All(comments, r => Assert.Equal(ApprovalWrite.Added, r));
        Assert.Equal(ApprovalWrite.Added, newHead);
        Assert.Equal(2, (await store.ReviewsAsync(cr.Id)).Count(r => r.Verdict == "approve"));
    }

    public void Dispose() => _dir.Dispose();
}
