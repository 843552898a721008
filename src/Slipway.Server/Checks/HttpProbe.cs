using System.Diagnostics;
using System.Text;

namespace Slipway.Server.Checks;

/// <summary>
/// One HTTP check: GET the configured address with the check's timeout, compare the status and look for the expected
/// text in the first <see cref="BodyLimit"/> bytes of the body. Redirects are not followed (a 301 is a status like any
/// other): requests go only to what the admin configured. Thread-safe; one client for all checks.
/// </summary>
public sealed class HttpProbe : IDisposable
{
    public const int BodyLimit = 64 * 1024;

    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        { Timeout = Timeout.InfiniteTimeSpan };

    public HttpProbe() => _http.DefaultRequestHeaders.UserAgent.ParseAdd("slipway-live-check");

    public async Task<CheckOutcome> ProbeAsync(CheckRow check, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(check.Timeout);
        try
        {
            using var response = await _http.GetAsync(check.Url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status != check.ExpectStatus)
                return new CheckOutcome(false, status, watch.ElapsedMilliseconds, $"status {status}, expected {check.ExpectStatus}");
            if (check.BodyContains is { } text)
            {
                var body = await ReadAsync(response, timeout.Token);
                if (!body.Contains(text, StringComparison.Ordinal))
                    return new CheckOutcome(false, status, watch.ElapsedMilliseconds, $"status {status}, but the body does not contain the expected text");
            }
            return new CheckOutcome(true, status, watch.ElapsedMilliseconds, $"status {status}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new CheckOutcome(false, null, watch.ElapsedMilliseconds, $"no answer within {check.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new CheckOutcome(false, null, watch.ElapsedMilliseconds, Short(e.Message));
        }
    }

    private static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[BodyLimit];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static string Short(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 299), "…");

    public void Dispose() => _http.Dispose();
}
