using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Client;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Hosting;

/// <summary>
/// Plays the talk's flow on the demo project once, in the background after the server started, so a first visit
/// finds a story on the board rather than an empty one: analyst <see cref="Analyst"/> sets the key prefix DEMO and
/// requests DEMO-1; developer <see cref="Developer"/> pushes a branch naming it and opens a change request; developer
/// <see cref="Reviewer"/> approves it once the branch is green (the author may not: actor-not-author) and the author
/// merges it; main's run releases it and the release reaches staging by itself. Production is left waiting for an
/// analyst's promotion, as in earnest.
/// <para>
/// Everything goes through the public API over loopback HTTP (like the embedded agent), with a short-lived API token
/// per demo user that is revoked at the end: the same access checks, segregation-of-duties rules and audit entries as
/// for people. Only what no API call can do is done here directly, each audited as the system: creating the demo users
/// (without a password: an admin gives one to sign in as them), their project grants and their tokens; and the
/// developer's push, which is a git push into the demo's repository followed by the same change check a push webhook
/// triggers.
/// </para>
/// Idempotent and resumable: each step looks first whether it happened (the prefix, the item, the branch, the change
/// request, the review), and once the change request is merged and its release signed off on staging a start does nothing
/// at all (no token, no audit entry).
/// </summary>
public sealed class DemoStory(ServerOptions options, IServer server, IHostApplicationLifetime lifetime, ProjectStore projects,
    ChangeRequestStore changeRequests, Gates.GateStore gates, EnvironmentStore environments, Checks.CheckStore checks, UserStore users, GrantStore grants, CredentialStore credentials, AuditLog audit, ChangeDetector detector,
    TimeProvider clock, ILogger<DemoStory> log) : BackgroundService
{
    public const string Analyst = "ann";
    public const string Developer = "dave";
    public const string Reviewer = "rita";
    public const string ItemTitle = "Show the price in the basket";
    private const string TokenName = "demo story";

    private static readonly (string Username, string DisplayName, string Role)[] People =
    [
        (Analyst, "Ann (demo analyst)", BuiltInRoles.Analyst),
        (Developer, "Dave (demo developer)", BuiltInRoles.Developer),
        (Reviewer, "Rita (demo developer)", BuiltInRoles.Developer),
    ];

    public static string Email(string username) => $"{username}@demo.slipway.invalid";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Demo) return;
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try { await started.Task.WaitAsync(stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
        try { await PlayAsync(stoppingToken); }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (Exception e) { log.LogWarning(e, "the demo story stopped; the next start of the server resumes it"); }
    }

    private async Task PlayAsync(CancellationToken ct)
    {
        if (await projects.FindAsync(DemoProject.Name) is not { } project) return;
        if ((await changeRequests.ListAsync(project.Id, "merged")).Any(c => c.SourceBranch.StartsWith(BranchPrefix, StringComparison.Ordinal))
            && await gates.AnySignOffAsync(project.Id))
        {
            await EnsureLiveCheckAsync(project); // a start stopped between the sign-off and the check adds it now
            return;
        }

        var url = EmbeddedAgentService.LoopbackAddress(server);
        var tokens = new List<(long UserId, long TokenId)>();
        try
        {
            var clients = new Dictionary<string, SlipwayClient>();
            foreach (var person in People)
            {
                var (userId, token, tokenId) = await EnsureUserAsync(project, person);
                tokens.Add((userId, tokenId));
                clients[person.Username] = new SlipwayClient(url, token);
            }
            try { await PlayAsync(project, clients[Analyst], clients[Developer], clients[Reviewer], ct); }
            finally { foreach (var client in clients.Values) client.Dispose(); }
        }
        finally
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var (userId, tokenId) in tokens)
                if (await credentials.RevokeTokenAsync(userId, tokenId, now))
                    await SystemAuditAsync(Actions.AccountSelf, $"token:{tokenId}", "demo story: API token revoked");
        }
    }

    private const string BranchPrefix = "feature/";

    private async Task PlayAsync(ProjectRow project, SlipwayClient analyst, SlipwayClient developer, SlipwayClient reviewer, CancellationToken ct)
    {
        // 1. The analyst gives the project its key prefix and writes the request down.
        var prefix = project.ItemKeyPrefix ?? (await analyst.SetItemKeyAsync(project.Name, "DEMO", ct: ct)).Prefix!;
        var item = (await analyst.ListWorkItemsAsync(project.Name, ct: ct)).FirstOrDefault(i => i.Title == ItemTitle)
                   ?? await analyst.CreateWorkItemAsync(project.Name, ItemTitle,
                       "As a shopper I want to see the total price of my basket before I pay.", "feature", ct);

        // 2. The developer pushes a branch named after it; Slipway looks at once (as on a push webhook) and runs it.
        var branch = $"{BranchPrefix}{item.Key}-basket-price";
        await PushBranchAsync(project, branch, item.Key, ct);
        await detector.CheckAsync((await projects.FindAsync(project.Name))!, ct);

        // 3. ... and opens a change request from it into main.
        var summary = (await developer.ListChangeRequestsAsync(project.Name, ct: ct)).FirstOrDefault(c => c.Source == branch);
        if (summary is { State: "closed" }) return; // someone closed it by hand: their decision stands
        var number = summary?.Number ?? (await developer.OpenChangeRequestAsync(project.Name,
            new OpenChangeRequestRequest($"{item.Key}: show the price in the basket", "Adds basket.sh and its unit test.", branch, null), ct)).Number;

        // 4. Once the branch is green another developer approves (the author may not), and the author merges.
        var change = await WaitForGreenHeadAsync(developer, project.Name, number, ct);
        if (change is null) return;
        if (!change.Reviews.Any(r => r.Reviewer == Reviewer && r.Verdict == "approve" && !r.Dismissed))
            change = await reviewer.ReviewChangeRequestAsync(project.Name, number, "approve", "Price shows as expected; tests pass.", ct: ct);
        if (change.State == "open") await developer.MergeChangeRequestAsync(project.Name, number, null, ct);
        log.LogInformation("demo story: {Key} merged through change request #{Number}; main's run releases it to staging", item.Key, number);

        // 5. Once its release is on staging (verified, performance measured), the analyst signs it off after the UAT
        //    showcase. Production's gates then all pass; the release waits there for an analyst's promotion.
        await SignOffOnStagingAsync(project.Name, analyst, item, ct);

        // 6. Production gets a live check (every minute, a 15-minute watch window after each deployment). The demo has no
        //    shop to probe, so it probes this server's own health endpoint in its place (docs/live-checks.md).
        await EnsureLiveCheckAsync(project);
    }

    private async Task EnsureLiveCheckAsync(ProjectRow project)
    {
        if (await environments.FindAsync(project.Id, "production") is not { } production || (await checks.ListAsync(production.Id)).Count > 0) return;
        var url = EmbeddedAgentService.LoopbackAddress(server).TrimEnd('/') + "/healthz";
        var id = await checks.AddAsync(production.Id, "http", url, 200, "ok", TimeSpan.FromSeconds(5), new Core.Checks.CheckSchedule(TimeSpan.FromMinutes(1), null, null),
            TimeSpan.FromMinutes(15), "slipway", clock.GetUtcNow().ToUnixTimeMilliseconds());
        await SystemAuditAsync(Actions.CheckManage, $"project:{project.Name} env:production", $"demo story: check {id} added to 'production': GET {url} every 1m, watch 15m");
    }

    private async Task SignOffOnStagingAsync(string project, SlipwayClient analyst, WorkItemDto item, CancellationToken ct)
    {
        var deadline = clock.GetUtcNow() + options.DemoStepWait;
        while (clock.GetUtcNow() < deadline)
        {
            var story = await analyst.GetWorkItemAsync(project, item.Number, ct);
            if (story.Environments?.FirstOrDefault(e => e.Environment == "staging" && e.Status == "deployed") is { } staging)
            {
                await analyst.SignOffAsync(project, staging.Release, new SignOffRequest("staging", "uat", true,
                    $"UAT showcase of {item.Key} with the shop owner: the basket shows its price."), ct);
                log.LogInformation("demo story: {Analyst} signed {Version} off on staging (UAT); production's gates are met", Analyst, staging.Release);
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        log.LogWarning("demo story: {Key} did not reach staging within {Wait}; the next start resumes", item.Key, options.DemoStepWait);
    }

    /// <summary>The change request once the newest run of its head succeeded; null (logged) when that run failed or took too long.</summary>
    private async Task<ChangeRequestDto?> WaitForGreenHeadAsync(SlipwayClient client, string project, long number, CancellationToken ct)
    {
        var deadline = clock.GetUtcNow() + options.DemoStepWait;
        while (true)
        {
            var change = await client.GetChangeRequestAsync(project, number, ct: ct);
            if (change.State != "open" || change.HeadRuns.FirstOrDefault() is { Status: "succeeded" }) return change;
            if (change.HeadRuns.FirstOrDefault() is { Status: "failed" or "cancelled" } failed)
            {
                log.LogWarning("demo story: run #{Run} of change request #{Number} did not succeed ({Status}); the story stops here", failed.Number, number, failed.Status);
                return null;
            }
            if (clock.GetUtcNow() > deadline)
            {
                log.LogWarning("demo story: the branch of change request #{Number} was not green within {Wait}; the next start resumes", number, options.DemoStepWait);
                return null;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    /// <summary>
    /// The developer's push: a clone of the demo repository, one commit by the developer (author e-mail = the user's, so
    /// Slipway maps it to them), pushed as <paramref name="branch"/>. Nothing when the branch exists already. The demo
    /// repository also accepts Slipway's merge pushes into its checked-out main (updating its files).
    /// </summary>
    private async Task PushBranchAsync(ProjectRow project, string branch, string key, CancellationToken ct)
    {
        var repo = project.RepoUrl;
        var t = options.GitTimeout;
        await GitCli.OutputAsync(repo, ["config", "receive.denyCurrentBranch", "updateInstead"], t, ct);
        if ((await GitCli.RunAsync(repo, ["rev-parse", "--verify", "--quiet", $"refs/heads/{branch}"], t, ct)).Ok) return;

        var work = Path.Combine(options.FullDataDirectory, "demo-work");
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        var local = new Dictionary<string, string> { ["GIT_ALLOW_PROTOCOL"] = GitCli.AllowedProtocols(local: true) };
        try
        {
            await GitCli.OutputAsync(null, ["clone", "--quiet", "--branch", project.DefaultBranch, "--", repo, work], t, ct, local);
            var basket = Path.Combine(work, "basket.sh");
            await File.WriteAllTextAsync(basket, $$"""
                #!/usr/bin/env bash
                # {{key}}: the basket shows its price. basket.sh PRICE... (prices in cents)
                set -eu
                source "$(dirname "$0")/calc.sh"
                total=0
                for price in "$@"; do total=$(add "$total" "$price"); done
                printf 'Basket: %d item(s), price %d.%02d\n' "$#" $((total / 100)) $((total % 100))

                """.Replace("\r\n", "\n"), ct);
            File.SetUnixFileMode(basket, (UnixFileMode)0b111_101_101);
            var test = Path.Combine(work, "test.sh");
            var tests = await File.ReadAllTextAsync(test, ct);
            const string Last = "check mul_zero 0 \"$(mul 7 0)\"\n";
            await File.WriteAllTextAsync(test, tests.Replace(Last, Last + "check basket_price \"Basket: 2 item(s), price 12.50\" \"$(./basket.sh 1000 250)\"\n"), ct);
            var (name, email) = ("Dave", Email(Developer));
            await GitCli.OutputAsync(work, ["add", "--all"], t, ct);
            await GitCli.OutputAsync(work, ["-c", $"user.name={name}", "-c", $"user.email={email}", "commit", "--quiet", "-m",
                $"{key}: show the price in the basket\n\nbasket.sh adds up the prices; test.sh checks it."], t, ct);
            await GitCli.OutputAsync(work, ["push", "--quiet", "origin", $"HEAD:refs/heads/{branch}"], t, ct, local);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// A demo user (created without a password, with the role on the demo project only) and a one-day API token for
    /// the story, each creation audited as the system. An existing user of that name is used as found.
    /// </summary>
    private async Task<(long UserId, string Token, long TokenId)> EnsureUserAsync(ProjectRow project, (string Username, string DisplayName, string Role) person)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var user = await users.FindAsync(person.Username);
        if (user is null)
        {
            user = await users.CreateAsync(person.Username, person.DisplayName, Email(person.Username), passwordHash: null, now)
                   ?? await users.FindAsync(person.Username) ?? throw new InvalidOperationException($"could not create demo user {person.Username}");
            await SystemAuditAsync(Actions.UserManage, $"user:{person.Username}", "demo user created without a password");
        }
        if (!(await grants.ForUserAsync(user.Id)).Any(g => g.Role == person.Role && g.Project == project.Name && g.Environment is null)
            && await grants.AddAsync(user.Id, person.Role, project.Id, null, "slipway", now))
            await SystemAuditAsync(Actions.GrantManage, $"user:{person.Username}", $"granted {person.Role} on project {project.Name} (demo user)");
        var token = Tokens.New(Tokens.UserPrefix);
        var expires = now + (long)TimeSpan.FromDays(1).TotalMilliseconds;
        var id = await credentials.CreateTokenAsync(user.Id, TokenName, Tokens.Hash(token), expires, null, now);
        if (id is null)
        {
            // A token of this name left by a story that was killed: revoke it and make a new one.
            foreach (var old in (await credentials.ListTokensAsync(user.Id)).Where(k => k.Name == TokenName))
                await credentials.RevokeTokenAsync(user.Id, old.Id, now);
            id = await credentials.CreateTokenAsync(user.Id, TokenName, Tokens.Hash(token), expires, null, now)
                 ?? throw new InvalidOperationException($"could not create the demo story's token for {person.Username}");
        }
        await SystemAuditAsync(Actions.AccountSelf, $"token:{id}", $"demo story: API token '{TokenName}' created for {person.Username}, expires in 1 day");
        return (user.Id, token, id.Value);
    }

    private Task SystemAuditAsync(string action, string target, string detail) =>
        audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, action, target, AuditOutcomes.Succeeded, detail));
}
