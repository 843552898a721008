using System.Collections.Concurrent;
using Slipway.Agent.Protocol;
using Slipway.Contracts;
using Slipway.Contracts.Agents;

namespace Slipway.Bench.Scale;

/// <summary>
/// Shared by the agents of one scenario: a gate that holds them before their next poll (so a batch can be queued
/// complete before anyone takes from it) and what they took and finished, with wall-clock milliseconds.
/// </summary>
public sealed class AgentCrew
{
    private volatile TaskCompletionSource _open = Opened();
    private long _finished;

    public ConcurrentDictionary<long, (long RunId, long ClaimedAtMs)> Claims { get; } = new();
    public long Finished => Interlocked.Read(ref _finished);
    public long LastFinishMs { get; private set; }

    public Task WaitOpenAsync(CancellationToken ct) => _open.Task.WaitAsync(ct);
    public void Close() { if (_open.Task.IsCompleted) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); }
    public void Open() => _open.TrySetResult();

    public void NoteFinished()
    {
        Interlocked.Increment(ref _finished);
        LastFinishMs = NowMs();
    }

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}

/// <summary>
/// A simulated agent (the approach of Slipway.Testing's SimulatedAgent): the real protocol over HTTP, one slot, every
/// job started and finished as succeeded at once, so what is measured is the server's dispatch and bookkeeping, not
/// job work. It notes when each lease arrived.
/// </summary>
public sealed class BenchAgent(string serverUrl, string name, string pool, AgentCrew crew) : IDisposable
{
    private readonly AgentProtocolClient _client = new(serverUrl);

    public async Task RegisterAsync(string registrationToken, CancellationToken ct)
    {
        var answer = await _client.RegisterAsync(registrationToken, new RegisterAgentRequest(ProtocolVersion.Current, name, pool, [], 1), ct);
        _client.UseCredential(answer.Credential);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            JobLease? lease;
            try
            {
                await crew.WaitOpenAsync(ct);
                lease = await _client.PollAsync(1, TimeSpan.FromSeconds(2), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or AgentRefusedException or IOException)
            {
                Console.WriteLine($"  ! {name}: poll failed: {e.Message}");
                await Task.Delay(200, CancellationToken.None);
                continue;
            }
            if (lease is null) continue;
            crew.Claims[lease.JobId] = (lease.RunId, AgentCrew.NowMs());
            try
            {
                await _client.StartAsync(lease, ct);
                await _client.FinishAsync(lease, new FinishJobRequest(lease.LeaseId, 0, JobOutcomes.Succeeded, null, null, []), ct);
                crew.NoteFinished();
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is HttpRequestException or AgentRefusedException or IOException or LeaseLostException)
            {
                Console.WriteLine($"  ! {name}: job {lease.JobId}: {e.Message}");
            }
        }
    }

    public void Dispose() => _client.Dispose();
}
