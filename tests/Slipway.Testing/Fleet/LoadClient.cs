using System.Diagnostics;

namespace Slipway.Testing.Fleet;

/// <summary>What a <see cref="LoadClient"/> saw.</summary>
/// <param name="VersionSequence">Versions in the order answers arrived, runs of the same version collapsed to one entry.</param>
/// <param name="VersionCounts">Answers per version.</param>
/// <param name="FailureReasons">The first few failures (status code or exception), in order.</param>
public sealed record LoadSummary(
    int Requests,
    int Failures,
    IReadOnlyList<string> FailureReasons,
    IReadOnlyList<string> VersionSequence,
    IReadOnlyDictionary<string, int> VersionCounts,
    TimeSpan Duration)
{
    public override string ToString() =>
        $"{Requests} requests, {Failures} failed in {Duration.TotalSeconds:0.0} s; versions {string.Join(" ", VersionCounts.Select(kv => $"{kv.Key}={kv.Value}"))}" +
        (FailureReasons.Count > 0 ? $"; first failures: {string.Join(" | ", FailureReasons)}" : "");
}

/// <summary>
/// Traffic through the load balancer during a rollout: <c>concurrency</c> loops each GET <c>url/VERSION</c>
/// back to back. Every request uses a new connection (<c>Connection: close</c>), so a server that stops
/// taking connections shows up at once instead of hiding behind a kept-alive one. Any non-200 answer or
/// exception (timeout included) counts as a failure.
/// </summary>
public sealed class LoadClient : IAsyncDisposable
{
    private const int MaxReasons = 10;
    private const int MaxSequence = 10_000;

    private readonly HttpClient _http;
    private readonly string _url;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly List<string> _reasons = [];
    private readonly List<string> _sequence = [];
    private readonly Dictionary<string, int> _counts = [];
    private readonly Task[] _loops;
    private int _requests;
    private int _failures;

    private LoadClient(string baseUrl, int concurrency, TimeSpan requestTimeout)
    {
        _url = baseUrl.TrimEnd('/') + "/VERSION";
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, UseProxy = false })
        {
            Timeout = requestTimeout,
        };
        _loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(LoopAsync)).ToArray();
    }

    public static LoadClient Start(string baseUrl, int concurrency = 4, TimeSpan? requestTimeout = null) =>
        new(baseUrl, concurrency, requestTimeout ?? TimeSpan.FromSeconds(5));

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            string? version = null, failure = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, _url);
                request.Headers.ConnectionClose = true;
                using var response = await _http.SendAsync(request, _stop.Token);
                var body = await response.Content.ReadAsStringAsync(_stop.Token);
                if ((int)response.StatusCode == 200)
                    version = body.Trim();
                else
                    failure = $"HTTP {(int)response.StatusCode} {body.Trim()}";
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return; // stopped mid-request: not counted
            }
            catch (Exception ex)
            {
                failure = $"{ex.GetType().Name}: {ex.Message}";
            }
            Record(version, failure);
        }
    }

    private void Record(string? version, string? failure)
    {
        lock (_lock)
        {
            _requests++;
            if (failure is not null)
            {
                _failures++;
                if (_reasons.Count < MaxReasons)
                    _reasons.Add($"{_watch.Elapsed.TotalSeconds:0.00}s {failure}");
                return;
            }
            _counts[version!] = _counts.GetValueOrDefault(version!) + 1;
            if ((_sequence.Count == 0 || _sequence[^1] != version) && _sequence.Count < MaxSequence)
                _sequence.Add(version!);
        }
    }

    /// <summary>Stops every loop (a request in flight is dropped, not counted) and returns what was seen.</summary>
    public async Task<LoadSummary> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        lock (_lock)
            return new LoadSummary(_requests, _failures, [.. _reasons], [.. _sequence], new Dictionary<string, int>(_counts), _watch.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await StopAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
