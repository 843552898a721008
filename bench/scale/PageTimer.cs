using System.Diagnostics;
using System.Net.Http.Headers;

namespace Slipway.Bench.Scale;

/// <summary>One page or API call measured; <see cref="Target"/>: whether issue 15's 50 ms p95 applies to it.</summary>
public sealed record Endpoint(string Name, string Path, bool Target);

public sealed record EndpointFigures(Endpoint Endpoint, Summary Latency, string? Error)
{
    public const double TargetP95Ms = 50;
    public bool Passed => Error is null && Latency.P95 <= TargetP95Ms;
    public string Verdict => Error is not null ? "ERROR" : !Endpoint.Target ? "(info)" : Passed ? "PASS" : "FAIL";
}

/// <summary>
/// Times GET requests one after another (no concurrency: the time one user waits) as the administrator, with the API
/// token the server was bootstrapped with (pages accept it like the session cookie). Each answer must be 200; its body is
/// read to the end, as a browser would.
/// </summary>
public sealed class PageTimer(string baseUrl, string token, int warmup, int timed)
{
    public static IReadOnlyList<Endpoint> Endpoints(string project, long item) =>
    [
        new("dashboard (page /)", "/", true),
        new("deployments overview (API)", "/api/v1/dashboard", true),
        new("projects (API)", "/api/v1/projects", true),
        new("project page with its run list", $"/projects/{project}", true),
        new("run list (API, 50)", $"/api/v1/projects/{project}/runs?limit=50", true),
        new("work item page", $"/projects/{project}/items/{item}", true),
        new("work item (API)", $"/api/v1/projects/{project}/items/{item}", true),
        new("audit page", "/audit", true),
        new("audit (API, 50)", "/api/v1/audit?limit=50", true),
        new("audit page filtered by actor", "/audit?actor=ops", false),
        new("work item list page", $"/projects/{project}/items", false),
        new("environments overview page", "/environments", false),
        new("releases page", $"/projects/{project}/releases", false),
    ];

    public async Task<List<EndpointFigures>> MeasureAsync(IReadOnlyList<Endpoint> endpoints)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var results = new List<EndpointFigures>();
        foreach (var endpoint in endpoints)
        {
            var figures = await MeasureAsync(http, endpoint);
            Console.WriteLine($"  {endpoint.Name,-34} {endpoint.Path,-42} {figures.Latency}  {figures.Verdict}{(figures.Error is { } e ? ": " + e : "")}");
            results.Add(figures);
        }
        return results;
    }

    private async Task<EndpointFigures> MeasureAsync(HttpClient http, Endpoint endpoint)
    {
        var times = new List<double>(timed);
        for (var i = 0; i < warmup + timed; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(endpoint.Path);
            var body = await response.Content.ReadAsStringAsync();
            watch.Stop();
            if (!response.IsSuccessStatusCode)
                return new EndpointFigures(endpoint, Summary.Of(times), $"{(int)response.StatusCode}: {body[..Math.Min(200, body.Length)]}");
            if (i >= warmup) times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return new EndpointFigures(endpoint, Summary.Of(times), null);
    }
}
