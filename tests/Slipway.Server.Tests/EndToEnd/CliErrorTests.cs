using System.Net;
using Dapper;
using Slipway.Client;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.EndToEnd;

/// <summary>
/// Issue 11, finding 7: the CLI answers a malformed server URL with one line (no stack trace); a 401 says why the credential
/// sent was refused and points to slipway login; audit verify --expect-head finds a head kept from an earlier verify.
/// </summary>
public sealed class CliErrorTests
{
    private static Task<(int Exit, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string?> env, params string[] args) =>
        CliRunner.RunAsync(new Dictionary<string, string?>(env) { ["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "slipway-cli-none") }, null, args);

    public static TheoryData<string?, string[], string> BadServers => new()
    {
        { null, ["project", "list", "--server", "127.0.0.1:5080"], "error: --server: '127.0.0.1:5080' is not a URL; write it with http:// or https://, e.g. http://127.0.0.1:5080" },
        { null, ["project", "list", "--server", "localhost:5080"], "error: --server: 'localhost:5080' is not a URL" },
        { "", ["project", "list"], "error: SLIPWAY_SERVER is set but empty: set it to the server's URL (e.g. http://127.0.0.1:5080) or unset it" },
        { "ftp://x", ["project", "list"], "error: SLIPWAY_SERVER: the scheme 'ftp://' is not supported; use http:// or https://" },
        { null, ["audit", "verify", "--server", "ftp://x"], "error: --server: the scheme 'ftp://' is not supported" },
        { null, ["login", "--server", "127.0.0.1:5080", "--token", "slp_x"], "error: --server: '127.0.0.1:5080' is not a URL" },
        { null, ["login", "--server", "127.0.0.1:5080", "--username", "ann", "--password-stdin"], "error: --server: '127.0.0.1:5080' is not a URL" },
        { "", ["agent", "--token", "slpr_x", "--work", "/nonexistent/slipway-agent"], "error: SLIPWAY_SERVER is set but empty" },
        { null, ["agent", "--server", "ftp://x", "--token", "slpr_x", "--work", "/nonexistent/slipway-agent"], "error: --server: the scheme 'ftp://' is not supported" },
    };

    [Theory]
    [MemberData(nameof(BadServers))]
    public async Task AMalformedServerUrl_IsOneLine_WithoutAStackTrace_AndExitCode2(string? variable, string[] args, string message)
    {
        var (exit, output, error) = await RunAsync(new Dictionary<string, string?> { ["SLIPWAY_SERVER"] = variable, ["SLIPWAY_TOKEN"] = "slp_x" }, args);

        Assert.Equal(2, exit);
        Assert.StartsWith(message, error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", error + output);
        Assert.DoesNotContain("Exception", error + output);
    }

    [Fact]
    public async Task A401_SaysWhetherTheTokenIsUnknownExpiredOrRevoked_OrTheUserDisabled_AndSuggestsLogin()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        var annToken = await UserWithRoleAsync(server, "ann", "viewer");
        using var ann = new SlipwayClient(server.Url, annToken);
        var expired = await ann.CreateTokenAsync("soon-gone", 1);
        var revoked = await ann.CreateTokenAsync("revoked");
        await ann.RevokeTokenAsync(revoked.Id);
        await server.Service<SqlDatabase>().WriteAsync((c, tx) => c.ExecuteAsync("UPDATE api_tokens SET expires_at = 1000 WHERE id = @Id", new { expired.Id }, tx));

        async Task<string> RefusalAsync(string? token)
        {
            using var http = Http(server, token);
            var answer = await http.GetAsync("/api/v1/projects");
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            return await answer.Content.ReadAsStringAsync();
        }

        Assert.Contains("a valid bearer token or session is required, and none was sent; sign in first (slipway login)", await RefusalAsync(null));
        Assert.Contains("the API token is not known to this server (mistyped, or from another server); sign in again (slipway login)",
            await RefusalAsync("slp_no-such-token-anywhere"));
        Assert.Contains("the API token expired at 1970-01-01 00:00 UTC; sign in again (slipway login)", await RefusalAsync(expired.Token));
        Assert.Contains("the API token was revoked at ", await RefusalAsync(revoked.Token));
        Assert.Contains("the agent credential is not known to this server", await RefusalAsync("slpa_no-such-agent"));
        Assert.Contains("the registration token is not known to this server", await RefusalAsync("slpr_no-such-token"));

        // The CLI prints the server's reason in one line.
        var cli = await CliRunner.AsAsync(server, expired.Token, "project", "list");
        Assert.Equal((1, "error: the API token expired at 1970-01-01 00:00 UTC; sign in again (slipway login)\n"), (cli.Exit, cli.Err));
        await server.Client.DisableUserAsync("ann");
        Assert.Contains("the API token's user is disabled; ask an admin", await RefusalAsync(annToken));
        // The audit entry says why too, and never holds the token.
        var denied = await AuditAsync(server, "outcome=denied&action=project.read");
        Assert.Contains(denied, e => e.Detail!.StartsWith("no valid credential: the API token was revoked at "));
        Assert.DoesNotContain(denied, e => e.Detail!.Contains(expired.Token) || e.Detail.Contains(revoked.Token));
    }

    [Fact]
    public async Task AuditVerify_WithTheHeadOfAnEarlierVerify_ReportsWhereItSits_AndAMadeUpHeadExits2()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);

        var first = await CliRunner.AdminAsync(server, null, "audit", "verify");
        var head = first.Out.Split("head ")[1].Trim();
        var firstEntry = (await server.Client.ListAuditAsync(new AuditFilterOptions(Action: "audit.read", Limit: 2)))[1].Seq; // [0]: this list call
        await server.Client.ListProjectsAsync(); // more entries after the kept head
        var kept = await CliRunner.AdminAsync(server, null, "audit", "verify", "--expect-head", head);
        var json = await server.Client.VerifyAuditAsync(head);
        var madeUp = await CliRunner.AdminAsync(server, null, "audit", "verify", "--expect-head", new string('a', 64));

        Assert.True(first.Exit == 0, first.Err);
        Assert.True(kept.Exit == 0, kept.Out + kept.Err);
        // The kept head is the first verify's own entry (written before it walked); two list calls and this verify followed.
        Assert.Contains($"expected head found: entry {firstEntry}, followed by 3 newer entries up to entry {firstEntry + 3}", kept.Out);
        Assert.Equal((firstEntry, 4L), (json.ExpectedHeadSequence!.Value, json.EntriesAfterExpectedHead!.Value));
        Assert.Equal(2, madeUp.Exit);
        Assert.Contains("audit chain BROKEN: the expected head aaaaaaaa", madeUp.Out);
        Assert.Contains("entries were removed from the end, or the log was rewritten", madeUp.Out);
    }
}
