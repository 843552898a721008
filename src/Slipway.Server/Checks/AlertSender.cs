using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Core.Checks;

namespace Slipway.Server.Checks;

/// <summary>
/// Delivers live-check alerts to the project's webhooks in the background, so neither the check runner nor a request ever
/// waits on a receiver. A bounded queue (<see cref="ServerOptions.AlertQueueCapacity"/>; when full the oldest alert is
/// dropped with a warning), each delivery retried with exponential backoff (<see cref="ServerOptions.AlertRetryDelay"/>,
/// doubled each time, <see cref="ServerOptions.AlertAttempts"/> tries). Outcomes are logged with the webhook's id and its
/// redacted address only: the full address (a Slack webhook's path is its secret) is decrypted just to send.
/// Redirects are not followed: an alert goes only where an admin pointed it. At most <see cref="Parallel"/> requests are
/// sent at once, but a delivery waiting out its backoff holds no sending slot: one dead receiver never delays the alerts
/// of the others (at most <see cref="MaxInFlight"/> deliveries are under way, the rest wait in the queue).
/// </summary>
public sealed class AlertSender : BackgroundService
{
    private const int Parallel = 4;
    private const int MaxInFlight = 200;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly AlertWebhookStore _webhooks;
    private readonly SecretVault _vault;
    private readonly ServerOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<AlertSender> _log;
    private readonly Channel<(AlertWebhookRow Webhook, CheckAlert Alert)> _queue;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        { Timeout = Timeout.InfiniteTimeSpan };

    public AlertSender(AlertWebhookStore webhooks, SecretVault vault, ServerOptions options, TimeProvider clock, ILogger<AlertSender> log)
    {
        (_webhooks, _vault, _options, _clock, _log) = (webhooks, vault, options, clock, log);
        _queue = Channel.CreateBounded<(AlertWebhookRow, CheckAlert)>(
            new BoundedChannelOptions(Math.Max(1, options.AlertQueueCapacity)) { FullMode = BoundedChannelFullMode.DropOldest },
            dropped => log.LogWarning("alert queue full: dropped {Event} of {Project}/{Environment} for webhook {Webhook}",
                dropped.Item2.Event, dropped.Item2.Project, dropped.Item2.Environment, dropped.Item1.Id));
    }

    /// <summary>Queues the alert for every webhook of the project that covers the environment. Never waits on delivery.</summary>
    public async Task QueueAsync(long projectId, long environmentId, CheckAlert alert)
    {
        foreach (var webhook in await _webhooks.ForAsync(projectId, environmentId))
            _queue.Writer.TryWrite((webhook, alert)); // bounded with DropOldest: always accepted
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        using var sending = new SemaphoreSlim(Parallel);
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await inFlight.WaitAsync(stoppingToken);
                _ = Task.Run(async () =>
                {
                    try { await DeliverAsync(item.Webhook, item.Alert, sending, stoppingToken); }
                    finally { inFlight.Release(); }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task DeliverAsync(AlertWebhookRow webhook, CheckAlert alert, SemaphoreSlim sending, CancellationToken ct)
    {
        if (_vault.TryUnprotect(webhook.UrlProtected) is not { } url)
        {
            _log.LogError("alert webhook {Webhook} ({Url}) cannot be decrypted (key ring replaced?); {Event} not delivered", webhook.Id, webhook.UrlShown, alert.Event);
            return;
        }
        var body = AlertPayload.Body(webhook.Format, alert);
        var delay = _options.AlertRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            try
            {
                await sending.WaitAsync(ct);
            }
            catch (OperationCanceledException) { return; }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(RequestTimeout);
                using var content = new StringContent(body, Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(url, content, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    _log.LogInformation("alert {Event} of {Project}/{Environment} delivered to webhook {Webhook} ({Url}) at attempt {Attempt}",
                        alert.Event, alert.Project, alert.Environment, webhook.Id, webhook.UrlShown, attempt);
                    return;
                }
                failure = $"answered {(int)response.StatusCode}";
                // A refusal (wrong address, bad token) does not get better by asking again; a timeout or rate limit may.
                if ((int)response.StatusCode is >= 400 and < 500 and not (408 or 429))
                {
                    _log.LogWarning("alert {Event} of {Project}/{Environment} refused by webhook {Webhook} ({Url}): {Failure}; not retried",
                        alert.Event, alert.Project, alert.Environment, webhook.Id, webhook.UrlShown, failure);
                    return;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // The exception's text, not the request: HttpClient's messages name the host, never the path.
                failure = e is OperationCanceledException ? $"no answer within {RequestTimeout.TotalSeconds:0} s" : e.Message;
            }
            finally
            {
                sending.Release(); // the backoff below is waited out without a sending slot
            }
            if (attempt >= _options.AlertAttempts)
            {
                _log.LogWarning("alert {Event} of {Project}/{Environment} not delivered to webhook {Webhook} ({Url}) after {Attempts} attempts: {Failure}",
                    alert.Event, alert.Project, alert.Environment, webhook.Id, webhook.UrlShown, attempt, failure);
                return;
            }
            _log.LogInformation("alert to webhook {Webhook} ({Url}) failed ({Failure}); retrying in {Delay}", webhook.Id, webhook.UrlShown, failure, delay);
            try { await Task.Delay(delay, _clock, ct); }
            catch (OperationCanceledException) { return; }
            delay *= 2;
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
