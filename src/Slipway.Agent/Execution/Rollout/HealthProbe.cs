using System.Diagnostics;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// A rollout's <c>health:</c> step: asks the URL from the deploy agent until it answers the expected status or time runs out.
/// Redirects are not followed: the status is the target's own (a 302 to some login page elsewhere is not healthy).
/// </summary>
public static class HealthProbe
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(5), UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Null when the URL answered <paramref name="expect"/> within <paramref name="within"/>; else what it answered last.</summary>
    public static async Task<string?> CheckAsync(Uri url, int expect, TimeSpan within, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        string last = "no answer";
        while (true)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(within - clock.Elapsed is var left && left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
                using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
                if ((int)response.StatusCode == expect) return null;
                last = $"status {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = e is TaskCanceledException ? "no answer in time" : e.Message;
            }
            if (clock.Elapsed >= within) return $"{url} did not answer {expect} within {within.TotalSeconds:0.#}s (last: {last})";
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, Math.Max(10, (within - clock.Elapsed).TotalMilliseconds))), ct);
        }
    }
}
