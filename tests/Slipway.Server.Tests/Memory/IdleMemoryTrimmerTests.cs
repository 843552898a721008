using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Slipway.Client;
using Slipway.Testing;

namespace Slipway.Server.Tests.Memory;

/// <summary>
/// The idle trimmer in a real <c>slipway server</c> process (its own GC, not the test host's): once start-up is over and
/// the server is quiet, it gives the GC's spare memory back to the OS, and says so in /metrics.
/// </summary>
public sealed class IdleMemoryTrimmerTests
{
    [Fact]
    public async Task QuietServer_GivesSpareGcMemoryBack()
    {
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{FreePort.Get()}";
        var env = new Dictionary<string, string> { ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken, ["SLIPWAY_POLL_SECONDS"] = "3600" };
        using var client = new SlipwayClient(url, SlipwayTestServer.AdminToken);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SlipwayTestServer.AdminToken);
        var server = SlipwayProcess.Start(["server", "--data", data.Path, "--urls", url, "--no-agent"], env);
        try
        {
            await Eventually.ValueAsync(async () => await client.ListProjectsAsync(), TimeSpan.FromSeconds(60), "the server to start");
            // Waiting for the first trim is the test's first assertion (Eventually throws after 45 s).
            var metrics = await Eventually.ValueAsync(async () =>
            {
                // Seldom: every scrape allocates in the server, and a server scraped all the time never looks quiet.
                await Task.Delay(2000);
                var text = await http.GetStringAsync("/metrics");
                return Value(text, "slipway_idle_memory_trims_total") >= 1 ? text : null;
            }, TimeSpan.FromSeconds(45), "an idle trim");
            var bytes = Value(metrics, "slipway_idle_memory_trimmed_bytes_total");

            // Start-up alone leaves several MiB of garbage-collected space committed (12 MiB on the bench's machine).
            Assert.True(bytes >= 1024 * 1024, $"only {bytes} bytes given back");
        }
        finally { Faults.CrashTests.Kill(server); }
    }

    private static double Value(string metrics, string name)
    {
        var m = Regex.Match(metrics, $@"^{name} (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
