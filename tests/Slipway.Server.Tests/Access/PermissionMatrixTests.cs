using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>
/// One server with two projects, an agent, a spare token and a user per role; every endpoint of the route
/// table is called as every kind of user and the answer is checked against the action catalogue and the roles.
/// </summary>
public sealed class MatrixFixture : IAsyncLifetime
{
    public const string ProjectA = "alpha";
    public const string ProjectB = "beta";
    public const string CustomRole = "matrix-custom";
    public const string Target = "m-target";
    public const string AgentName = "matrix-agent";
    public const string Job = "j";

    /// <summary>The custom role: a project read, a project action and a server-scoped read, without ui.view or account.self.</summary>
    public static readonly string[] CustomActions = [Actions.ProjectRead, Actions.RunCancel, Actions.AuditRead];

    private readonly List<IDisposable> _repos = [];

    public SlipwayTestServer Server { get; private set; } = null!;
    public Dictionary<string, long> Runs { get; } = [];
    public long SpareTokenId { get; private set; }
    public Dictionary<string, string> Tokens { get; } = [];

    /// <summary>Username of each kind of caller in the matrix.</summary>
    public static string UserOf(string who) => "m-" + who;

    public async Task InitializeAsync()
    {
        Server = await SlipwayTestServer.StartAsync(o =>
        {
            o.EmbeddedAgent = false;
            o.SignInFailuresPerAccount = 10_000;
            o.SignInFailuresPerAddress = 10_000;
        });
        Runs[ProjectA] = await CreateProjectAsync(Server, ProjectA, _repos);
        Runs[ProjectB] = await CreateProjectAsync(Server, ProjectB, _repos);

        var registration = await Server.Client.CreateAgentTokenAsync("build", preApproved: true);
        using (var http = Http(Server, registration.Token))
            await Expect(await http.PostAsync("/api/v1/agent/register",
                Body($"{{\"protocolVersion\":{Slipway.Contracts.ProtocolVersion.Current},\"name\":\"{AgentName}\",\"pool\":\"build\",\"labels\":[],\"slots\":1}}")), HttpStatusCode.OK);
        using (var admin = Admin(Server))
            SpareTokenId = (await ReadAsync<TokenCreatedDto>(await Expect(await admin.PostAsync("/api/v1/tokens",
                Body(new CreateTokenRequest("spare", 30, null))), HttpStatusCode.Created))).Id;

        await CreateRoleAsync(Server, CustomRole, CustomActions);
        await CreateUserAsync(Server, Target);
        foreach (var role in new[] { BuiltInRoles.Admin, BuiltInRoles.Analyst, BuiltInRoles.Developer, BuiltInRoles.Viewer })
            Tokens[role] = await UserWithRoleAsync(Server, UserOf(role), role);
        Tokens["custom"] = await UserWithRoleAsync(Server, UserOf("custom"), CustomRole);
        Tokens["scoped"] = await UserWithRoleAsync(Server, UserOf("scoped"), BuiltInRoles.Developer, ProjectA);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        foreach (var repo in _repos) repo.Dispose();
    }
}

public sealed class PermissionMatrixTests(MatrixFixture fixture) : IClassFixture<MatrixFixture>
{
    private SlipwayTestServer Server => fixture.Server;

    private IReadOnlyList<RouteEndpoint> Endpoints() =>
        Server.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

    [Fact]
    public void EveryEndpoint_HasAnActionOfTheCatalogue_AndAnHttpMethod()
    {
        var endpoints = Endpoints();
        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} endpoints found");
        var problems = new List<string>();
        foreach (var e in endpoints)
        {
            var action = e.Metadata.GetMetadata<ActionMetadata>()?.Action;
            if (action is null) problems.Add($"{e.RoutePattern.RawText}: no ActionMetadata");
            else if (!Actions.All.Contains(action)) problems.Add($"{e.RoutePattern.RawText}: '{action}' is not in the catalogue");
            if (e.Metadata.GetMetadata<HttpMethodMetadata>() is not { HttpMethods.Count: > 0 })
                problems.Add($"{e.RoutePattern.RawText}: no HTTP method");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    public static TheoryData<string, string> Callers => new()
    {
        { BuiltInRoles.Admin, MatrixFixture.ProjectA },
        { BuiltInRoles.Analyst, MatrixFixture.ProjectA },
        { BuiltInRoles.Developer, MatrixFixture.ProjectA },
        { BuiltInRoles.Viewer, MatrixFixture.ProjectA },
        { "custom", MatrixFixture.ProjectA },
        { "scoped", MatrixFixture.ProjectA },
        { "scoped", MatrixFixture.ProjectB },
    };

    /// <summary>
    /// Every endpoint answers a user 403 (with a denied audit entry) exactly when their roles lack its action on
    /// the project the call is aimed at, and something other than 401/403 otherwise. Agent actions are always
    /// refused to users; public ones never are.
    /// </summary>
    [Theory]
    [MemberData(nameof(Callers))]
    public async Task EveryEndpoint_AnswersEachRole_AsTheCatalogueAndRolesSay(string who, string project)
    {
        var username = MatrixFixture.UserOf(who);
        using var http = Http(Server, fixture.Tokens[who]);
        using var anonymous = Http(Server);
        var problems = new List<string>();
        var deniedRequests = new Dictionary<string, string>();
        var calls = 0;

        foreach (var endpoint in Endpoints().OrderBy(e => e.RoutePattern.RawText))
        {
            var action = endpoint.Metadata.GetMetadata<ActionMetadata>()?.Action;
            if (action is null) { problems.Add($"{endpoint.RoutePattern.RawText}: no action"); continue; }
            var info = Actions.Get(action);
            var (path, targetProject) = Fill(endpoint.RoutePattern.RawText!, project);
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)
            {
                calls++;
                var what = $"{method} {path} ({action})";
                var (status, requestId) = await CallAsync(http, method, path);
                if (info.Kind == ActionKind.Public)
                {
                    if (action == Actions.WebhookPush)
                    {
                        // Proven by its signature, not by who calls: a user's token changes nothing.
                        var (anon, _) = await CallAsync(anonymous, method, path);
                        if (status != anon) problems.Add($"{what}: {status} with a user token but {anon} anonymously");
                    }
                    else if (status is 401 or 403) problems.Add($"{what}: public, yet {status}");
                    continue;
                }
                var allowed = info.Kind == ActionKind.User && Holds(who, info, targetProject);
                // A project the user may not read at all, named in the address, is answered as a missing one (404), never
                // a refusal that would confirm its name; the audit log still has the denial.
                var route = endpoint.RoutePattern.RawText!;
                var unknowable = !allowed && who == "scoped" && targetProject == MatrixFixture.ProjectB && info is { Kind: ActionKind.User, Scope: ActionScope.Project }
                                 && route.Contains("{name}") && (route.Contains("/projects/") || route.StartsWith("/git/"));
                var refused = unknowable ? 404 : 403;
                if (allowed && status is 401 or 403) problems.Add($"{what}: {who} holds it, yet {status}");
                if (!allowed && status != refused) problems.Add($"{what}: {who} lacks it, yet {status}");
                if (!allowed && status == refused) deniedRequests[requestId!] = what;
                if (status == 500) problems.Add($"{what}: 500");
            }
        }

        // Every refusal left a 'denied' audit entry naming the caller, found by the request id.
        var audited = (await AuditAsync(Server, $"actor={username}&outcome={AuditOutcomes.Denied}"))
            .Select(e => e.RequestId).ToHashSet();
        foreach (var (requestId, what) in deniedRequests)
            if (!audited.Contains(requestId)) problems.Add($"{what}: 403 without a denied audit entry");

        Assert.True(calls > 30, $"only {calls} calls made");
        Assert.True(problems.Count == 0, $"{who} on {project}:\n" + string.Join("\n", problems));
    }

    [Fact]
    public async Task ProjectScopedUser_SeesOnlyTheirProjectInLists()
    {
        using var http = Http(Server, fixture.Tokens["scoped"]);

        var projects = await ReadAsync<List<ProjectDto>>(await Expect(await http.GetAsync("/api/v1/projects"), HttpStatusCode.OK));
        var home = await (await Expect(await http.GetAsync("/"), HttpStatusCode.OK)).Content.ReadAsStringAsync();

        Assert.Equal([MatrixFixture.ProjectA], projects.Select(p => p.Name));
        Assert.Contains(MatrixFixture.ProjectA, home);
        Assert.DoesNotContain(MatrixFixture.ProjectB, home);
    }

    /// <summary>A run of another project and a run that does not exist get the same refusal, which names neither project.</summary>
    [Fact]
    public async Task ProjectScopedUser_CannotTellAnotherProjectsRunFromAMissingOne()
    {
        using var http = Http(Server, fixture.Tokens["scoped"]);
        var other = fixture.Runs[MatrixFixture.ProjectB];

        var theirs = await (await Expect(await http.GetAsync($"/api/v1/runs/{other}"), HttpStatusCode.Forbidden)).Content.ReadAsStringAsync();
        var missing = await (await Expect(await http.GetAsync("/api/v1/runs/99999999"), HttpStatusCode.Forbidden)).Content.ReadAsStringAsync();

        Assert.Contains($"may not run.read on run {other}", theirs);
        Assert.Contains("may not run.read on run 99999999", missing);
        Assert.DoesNotContain(MatrixFixture.ProjectB, theirs);
        Assert.DoesNotContain("\\u0000", missing);
    }

    [Fact]
    public async Task ProjectScopedUser_CanManageTheirOwnAccount()
    {
        using var http = Http(Server, fixture.Tokens["scoped"]);

        var me = await ReadAsync<MeDto>(await Expect(await http.GetAsync("/api/v1/me"), HttpStatusCode.OK));

        Assert.Equal(MatrixFixture.UserOf("scoped"), me.Username);
        Assert.Contains(Actions.RunStart, me.Actions);
        Assert.DoesNotContain(Actions.AgentRead, me.Actions);
        await Expect(await http.GetAsync("/api/v1/tokens"), HttpStatusCode.OK);
    }

    /// <summary>What the roles of the test users give, derived from the documented rules (not from <see cref="Permissions"/>).</summary>
    private static bool Holds(string who, ActionInfo info, string? targetProject)
    {
        if (who == "custom") return MatrixFixture.CustomActions.Contains(info.Name);
        if (who == "scoped")
        {
            // Developer on project A only: project actions there (and in lists), plus the personal server actions.
            if (!BuiltInRoles.Find(BuiltInRoles.Developer)!.Actions.Contains(info.Name)) return false;
            if (info.Scope == ActionScope.Project) return targetProject is null || targetProject == MatrixFixture.ProjectA;
            return info.Name is Actions.AccountSelf or Actions.UiView;
        }
        return BuiltInRoles.Find(who)!.Actions.Contains(info.Name);
    }

    private static readonly Regex Parameter = new(@"\{\**(?<name>[A-Za-z0-9_]+)(:[^}]*)?\}");

    /// <summary>The route with its parameters filled by real objects, and the project the call is aimed at.</summary>
    private (string Path, string? Project) Fill(string pattern, string project)
    {
        string? target = null;
        var path = Parameter.Replace(pattern, m =>
        {
            var name = m.Groups["name"].Value;
            switch (name)
            {
                case "name" when pattern.Contains("/projects/"):
                    target = project;
                    return project;
                case "name" when pattern.StartsWith("/git/"): // a hosted repository (these projects are not hosted: 404 when allowed)
                    target = project;
                    return project;
                case "name" when pattern.Contains("/agents/"): return MatrixFixture.AgentName;
                case "name" when pattern.Contains("/nodes/"): return "no-such-node"; // a server node (none of that name: 404 when allowed)
                case "node": return "no-such-node"; // the web UI's node buttons
                case "agent": return MatrixFixture.AgentName; // the web UI's agent buttons
                case "tokenId": return fixture.SpareTokenId.ToString(); // the web UI's token page
                case "id" when pattern.Contains("/runs/"):
                    target = project;
                    return fixture.Runs[project].ToString();
                case "id" when pattern.Contains("/tokens/"): return fixture.SpareTokenId.ToString();
                case "id" when pattern.Contains("/agent/jobs/"): return "1";
                case "task": return "1"; // a node task (none exists: 404 when allowed)
                case "id" when pattern.Contains("/freezes/"): return "1"; // a freeze window (none exists: 404 when allowed)
                case "id" when pattern.Contains("/gates/"): return "1"; // a gate (none exists: 404 when allowed)
                case "id" when pattern.Contains("/signoffs/"): return "1"; // a sign-off (none exists: 404 when allowed)
                case "attachment": return "1"; // a sign-off's attachment
                case "id" when pattern.Contains("/checks/"): return "1"; // a live check (none exists: 404 when allowed)
                case "id" when pattern.Contains("/webhooks/alerts/"): return "1"; // an alert webhook (none exists: 404 when allowed)
                case "id" when pattern.Contains("/alerts/"): return "1"; // an alert webhook on the environment page
                case "env": return "production"; // an environment (none exists: 404 when allowed)
                case "var": return "MATRIX_VAR";
                case "target": return "web-1"; // a deployment target (none exists: 404 when allowed)
                case "balancer": return "lb1"; // a load balancer
                case "job": return MatrixFixture.Job;
                case "variable": return "MATRIX_VAR";
                case "branch": return "release/1"; // a protected branch
                case "number": return "1"; // a work item (none exists: 404 when allowed)
                case "key": return "NO-1"; // a work item by its key (none: 404 when allowed)
                case "path": return "out/report.txt";
                case "version": return "1.0.1"; // a release (none exists: 404 when allowed)
                case "username": return MatrixFixture.Target;
                case "role": return MatrixFixture.CustomRole;
                case "file": return "site.css";
                case "sha256": return new string('0', 64);
                default:
                    Assert.Fail($"{pattern}: the matrix does not know a value for route parameter '{name}'; add one");
                    return "";
            }
        });
        return (path, target);
    }

    private static string? BodyFor(string method, string path) => method switch
    {
        "GET" or "HEAD" or "DELETE" => null,
        _ when path == "/api/v1/me/password" => $"{{\"password\":\"short\",\"currentPassword\":\"{Password}\"}}", // 400: too short
        _ when path == "/api/v1/auth/login" => "{", // 400: not JSON (no failed sign-in counted)
        _ => "{}",
    };

    private static async Task<(int Status, string? RequestId)> CallAsync(HttpClient http, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (BodyFor(method, path) is { } body) request.Content = Body(body);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // Headers only: the log follow endpoint streams until its job ends.
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        return ((int)response.StatusCode, response.Headers.TryGetValues("X-Request-Id", out var id) ? id.Single() : null);
    }
}
