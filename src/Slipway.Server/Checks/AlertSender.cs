using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Slipway.Core.Checks;

namespace Slipway.Server.Checks;

/// <summary>
/// Delivers live-check alerts to the project's webhooks, so neither the check runner nor a request ever waits on a
/// receiver. An alert is queued in the database (<see cref="AlertDeliveryStore"/>), one delivery per webhook, so it
/// survives a restart, an upgrade or the loss of the node that raised it: every node runs this sender, and whichever
/// claims a due delivery attempts it (a node that dies mid-attempt leaves it to another after <see cref="Claim"/>; a
/// receiver may then get an alert twice, never none). Retries follow <see cref="AlertDeliveryRule"/>
/// (<see cref="ServerOptions.AlertRetryDelay"/> doubled each time, <see cref="ServerOptions.AlertAttempts"/> attempts);
/// a delivery waiting for its retry is a row, not a task, so one dead receiver never delays the alerts of others. At most
/// <see cref="Parallel"/> requests per node are under way. When more than <see cref="ServerOptions.AlertQueueCapacity"/>
/// deliveries wait, the oldest are dropped with a warning.
/// Outcomes are logged with the webhook's id and its redacted address only: the full address (a Slack webhook's path is
/// its secret) is decrypted just to send. Redirects are not followed: an alert goes only where an admin pointed it.
/// </summary>
public sealed class AlertSender : Hosting.PeriodicWorker
{
    private const int Parallel = 4;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    /// <summary>How long an attempt holds its delivery: the request's timeout and a margin for a slow database.</summary>
    public static readonly TimeSpan Claim = RequestTimeout + TimeSpan.FromSeconds(20);
    /// <summary>The longest pause between two looks: deliveries queued or given back by other nodes are seen by then.</summary>
    private static readonly TimeSpan LookAtLeastEvery = TimeSpan.FromSeconds(30);
    /// <summary>When a look found deliveries due but could claim none (another node was claiming them): look again soon.</summary>
    private static readonly TimeSpan ShortPause = TimeSpan.FromMilliseconds(200);
    /// <summary>How long the record of a finished delivery is kept (the webhook list shows the latest).</summary>
    private static readonly TimeSpan Keep = TimeSpan.FromDays(30);

    private readonly AlertWebhookStore _webhooks;
    private readonly AlertDeliveryStore _deliveries;
    private readonly SecretVault _vault;
    private readonly ServerOptions _options;
    private readonly ILogger<AlertSender> _log;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        { Timeout = Timeout.InfiniteTimeSpan };
    private readonly WorkSignal _signal;
    private int _sending;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _attempts = new();
    private TimeSpan _pause = TimeSpan.Zero;
    private long _lastPruneTicks = Environment.TickCount64 - (long)TimeSpan.FromHours(2).TotalMilliseconds;

    public AlertSender(AlertWebhookStore webhooks, AlertDeliveryStore deliveries, SecretVault vault, WorkSignal signal, ServerOptions options,
        TimeProvider clock, ILogger<AlertSender> log) : base(log, clock)
    {
        (_webhooks, _deliveries, _vault, _signal, _options, _log) = (webhooks, deliveries, vault, signal, options, log);
    }

    protected override string Name => "alert delivery";
    protected override TimeSpan Interval => _pause;
    protected override Task WakeUp() => _signal.WaitAsync(WorkSignal.Alerts);

    /// <summary>
    /// Queues the alert for every webhook of the project that covers the environment, then this node's sender looks at once.
    /// Never waits on delivery. Written outside the caller's duty fence: the check result the alert follows from was recorded
    /// under it, and losing the lease in between must not lose the alert. A failure is tried twice more, then logged: this
    /// never throws.
    /// </summary>
    public async Task QueueAsync(long projectId, long environmentId, CheckAlert alert)
    {
        var subject = $"{alert.Project}/{alert.Environment}";
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var dropped = await DutyFence.RunOutsideAsync(async () =>
                {
                    var webhooks = await _webhooks.ForAsync(projectId, environmentId);
                    return webhooks.Count == 0 ? []
                        : await _deliveries.QueueAsync(webhooks.Select(w => (w.Id, AlertPayload.Body(w.Format, alert))), alert.Event, subject,
                            Math.Max(1, _options.AlertQueueCapacity));
                });
                foreach (var (@event, dropSubject, webhookId) in dropped)
                    _log.LogWarning("alert queue full ({Capacity} waiting): dropped {Event} of {Subject} for webhook {Webhook}",
                        _options.AlertQueueCapacity, @event, dropSubject, webhookId);
                Wake();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (attempt >= 3)
                {
                    // Never thrown at the caller: what the alert follows from (a result, a rollback) is done and recorded.
                    _log.LogError("alert {Event} of {Subject} could not be queued after {Attempts} tries and is lost ({Error}); the check's result " +
                                  "and the audit entry remain", alert.Event, subject, attempt, e.Message);
                    return;
                }
                _log.LogWarning("alert {Event} of {Subject} could not be queued ({Error}); trying again", alert.Event, subject, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    /// <summary>A clean stop waits (briefly) for the attempts under way: each gives its delivery back for the next node to try at once.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var attempts = _attempts.Values.ToArray();
        if (attempts.Length == 0) return;
        try { await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { } // their claims run out instead
    }

    protected override async Task PassAsync(CancellationToken ct)
    {
        _pause = LookAtLeastEvery; // also when the pass fails
        await PruneNowAndThenAsync();
        var free = Parallel - Volatile.Read(ref _sending);
        if (free <= 0) return; // an ending attempt wakes the next look
        if (await _deliveries.NextDueInAsync() is not { } due) return;
        if (due > TimeSpan.Zero)
        {
            _pause = due < LookAtLeastEvery ? due : LookAtLeastEvery;
            return;
        }
        var claimed = await _deliveries.ClaimDueAsync(free, Claim);
        foreach (var delivery in claimed)
        {
            Interlocked.Increment(ref _sending);
            var attempt = Task.Run(() => AttemptAsync(delivery, ct), CancellationToken.None);
            _attempts[delivery.Id] = attempt;
            _ = attempt.ContinueWith(_ => _attempts.TryRemove(KeyValuePair.Create(delivery.Id, attempt)), TaskScheduler.Default);
        }
        // More may be due: the next look comes at once. Due but none claimed: another node is claiming them right now.
        _pause = claimed.Count > 0 ? TimeSpan.Zero : ShortPause;
    }

    private async Task AttemptAsync(ClaimedAlertDelivery delivery, CancellationToken ct)
    {
        try
        {
            if (_vault.TryUnprotect(delivery.UrlProtected) is not { } url)
            {
                _log.LogError("alert webhook {Webhook} ({Url}) cannot be decrypted (key ring replaced?); {Event} of {Subject} not delivered",
                    delivery.WebhookId, delivery.UrlShown, delivery.Event, delivery.Subject);
                await _deliveries.FinishAsync(delivery.Id, delivery.Attempts, AlertDeliveryStates.GaveUp, "the address cannot be decrypted (key ring replaced?)");
                return;
            }
            int? status = null;
            string failure;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(RequestTimeout);
                using var content = new StringContent(delivery.Body, Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(url, content, timeout.Token);
                status = (int)response.StatusCode;
                failure = $"answered {status}";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // This node stops: the delivery is due again at once, for whichever node looks next (this one restarted, or another).
                await _deliveries.RetryLaterAsync(delivery.Id, delivery.Attempts, TimeSpan.Zero, "the node stopped during the attempt");
                return;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // A fixed text, never the exception's: its message may quote what the receiver sent (a status line, a header),
                // and the failure is shown to anyone who may read the project's environments.
                failure = e is HttpRequestException { HttpRequestError: var kind }
                    ? $"no answer ({kind})"
                    : $"no answer within {RequestTimeout.TotalSeconds:0} s";
            }
            var next = AlertDeliveryRule.After(delivery.Attempts, _options.AlertAttempts, _options.AlertRetryDelay, status);
            // False when this attempt overran its claim and another one took over: that attempt's outcome is the one kept.
            var recorded = next.FinalState is { } state
                ? await _deliveries.FinishAsync(delivery.Id, delivery.Attempts, state, state == AlertDeliveryStates.Delivered ? null : failure)
                : await _deliveries.RetryLaterAsync(delivery.Id, delivery.Attempts, next.RetryIn!.Value, failure);
            Report(delivery, next, failure, recorded);
        }
        catch (Exception e)
        {
            _log.LogWarning("alert delivery {Delivery} to webhook {Webhook} ({Url}): the outcome of attempt {Attempt} was not recorded ({Error}); " +
                "it is tried again after {Claim}", delivery.Id, delivery.WebhookId, delivery.UrlShown, delivery.Attempts, e.Message, Claim);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
            Wake();
        }
    }

    private void Report(ClaimedAlertDelivery d, AlertNextStep next, string failure, bool recorded)
    {
        var late = recorded ? "" : " (not recorded: the delivery changed meanwhile, its claim ran out or it was dropped)";
        switch (next.FinalState)
        {
            case AlertDeliveryStates.Delivered:
                _log.LogInformation("alert {Event} of {Subject} delivered to webhook {Webhook} ({Url}) at attempt {Attempt}{Late}",
                    d.Event, d.Subject, d.WebhookId, d.UrlShown, d.Attempts, late);
                break;
            case AlertDeliveryStates.Refused:
                _log.LogWarning("alert {Event} of {Subject} refused by webhook {Webhook} ({Url}): {Failure}; not retried{Late}",
                    d.Event, d.Subject, d.WebhookId, d.UrlShown, failure, late);
                break;
            case AlertDeliveryStates.GaveUp:
                _log.LogWarning("alert {Event} of {Subject} not delivered to webhook {Webhook} ({Url}) after {Attempts} attempts: {Failure}{Late}",
                    d.Event, d.Subject, d.WebhookId, d.UrlShown, d.Attempts, failure, late);
                break;
            default:
                _log.LogInformation("alert to webhook {Webhook} ({Url}) failed ({Failure}); retrying in {Delay}{Late}",
                    d.WebhookId, d.UrlShown, failure, next.RetryIn, late);
                break;
        }
    }

    private async Task PruneNowAndThenAsync()
    {
        if (Environment.TickCount64 - _lastPruneTicks < (long)TimeSpan.FromHours(1).TotalMilliseconds) return;
        _lastPruneTicks = Environment.TickCount64;
        var pruned = await _deliveries.PruneAsync(Keep);
        if (pruned > 0) _log.LogInformation("pruned the record of {Count} alert deliveries that ended over {Days} days ago", pruned, Keep.TotalDays);
    }

    /// <summary>This node's sender looks at once (a delivery queued here, or a slot freed).</summary>
    private void Wake() => _signal.SignalHere(WorkSignal.Alerts);

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
