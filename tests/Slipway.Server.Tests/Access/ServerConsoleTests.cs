using System.Net;
using Microsoft.Extensions.Logging;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>What the server's console shows while people use the web UI: nothing to worry about for ordinary page views.</summary>
public sealed class ServerConsoleTests
{
    [Fact]
    public async Task PageViews_OfASignedInUser_LogNoWarnings()
    {
        using var logs = new CapturedLogs();
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false, logs: logs);
        using var browser = new Browser(server);
        await Expect(await browser.SignInWithTokenAsync(SlipwayTestServer.AdminToken), HttpStatusCode.Redirect);
        var before = logs.Entries.Count;

        foreach (var page in new[] { "/", "/tokens", "/", "/audit" })
        {
            var response = await Expect(await browser.Http.GetAsync(page), HttpStatusCode.OK);
            // Still never cached: the pages carry the user's data and an anti-forgery token.
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        }
        // A page rendered after a form post (the new token, shown once) is a page view too.
        var created = await browser.Http.PostAsync("/tokens/create", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "laptop", ["__RequestVerificationToken"] = await browser.AntiforgeryTokenAsync(),
        }));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        var warnings = logs.Entries.Skip(before).Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.True(warnings.Count == 0, string.Join("\n", warnings.Select(w => $"{w.Level} {w.Category}: {w.Message}")));
    }
}
