using System.Collections.Concurrent;
using Slipway.Agent.Protocol;
using Slipway.Contracts;
using Slipway.Contracts.Agents;

namespace Slipway.Testing.Cluster;

/// <summary>
/// An agent that speaks the real agent protocol over HTTP but runs nothing: it polls, starts and finishes each job it is
/// handed as succeeded at once, and records every lease it received. For claim races and scale (the tests' cluster,
/// bench/scale), where thousands of jobs must go through quickly; the protocol and the server's claim logic are the real ones.
/// </summary>
public sealed class SimulatedAgent(string serverUrl, string name, string pool) : IDisposable
{
    private readonly AgentProtocolClient _client = new(serverUrl);

    public string Name { get; } = name;

    /// <summary>Awaited before each poll (a benchmark's gate that holds every agent until a batch is queued).</summary>
    public Func<CancellationToken, Task>? BeforePoll { get; init; }

    /// <summary>Called when a lease arrives, and when its job was finished.</summary>
    public Action<JobLease>? Leased { get; init; }
    public Action<JobLease>? Finished { get; init; }

    /// <summary>The labels it registers with (none by default).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>How long each poll may wait at the server for a job.</summary>
    public TimeSpan PollWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Every lease this agent was handed: (job, lease id).</summary>
    public ConcurrentQueue<(long JobId, string LeaseId)> Received { get; } = new();

    public async Task RegisterAsync(string registrationToken, CancellationToken ct)
    {
        var answer = await _client.RegisterAsync(registrationToken, new RegisterAgentRequest(ProtocolVersion.Current, Name, pool, Labels, 1), ct);
        _client.UseCredential(answer.Credential);
    }

    /// <summary>Takes and finishes jobs until <paramref name="ct"/> is cancelled. A failed call is tried again (a node may be gone).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            JobLease? lease;
            try
            {
                if (BeforePoll is { } gate) await gate(ct);
                lease = await _client.PollAsync(1, PollWait, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or AgentRefusedException or IOException) { await PauseAsync(ct); continue; }
            if (lease is null) continue;
            Received.Enqueue((lease.JobId, lease.LeaseId));
            Leased?.Invoke(lease);
            await RetryAsync(() => _client.StartAsync(lease, ct), ct);
            await RetryAsync(() => _client.FinishAsync(lease, new FinishJobRequest(lease.LeaseId, 0, JobOutcomes.Succeeded, null, null, []), ct), ct);
            Finished?.Invoke(lease);
        }
    }

    private static async Task RetryAsync(Func<Task> call, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 5 && !ct.IsCancellationRequested; attempt++)
        {
            try { await call(); return; }
            catch (LeaseLostException) { return; } // done by an earlier attempt whose answer was lost, or taken back
            catch (Exception e) when (e is HttpRequestException or AgentRefusedException or IOException) { await PauseAsync(ct); }
        }
    }

    private static async Task PauseAsync(CancellationToken ct)
    {
        try { await Task.Delay(200, ct); } catch (OperationCanceledException) { }
    }

    public void Dispose() => _client.Dispose();
}
