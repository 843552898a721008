using System.Text.Json;
using Microsoft.Extensions.Logging;
using Slipway.Agent.Execution;
using Slipway.Agent.Protocol;
using Slipway.Agent.Sandbox;
using Slipway.Contracts;
using Slipway.Contracts.Agents;

namespace Slipway.Agent;

/// <summary>
/// One agent: registers once (keeping its credential in WORK/credential.json, mode 0600), then runs one
/// poll-execute loop per slot until stopped. Survives server restarts and network errors by retrying.
/// </summary>
public sealed class AgentHost(AgentOptions options, ILogger<AgentHost> log) : IDisposable
{
    private readonly AgentProtocolClient _client = new(options.ServerUrl);
    // Shared by every slot: a refused credential is retried ever more slowly, not hammered by each slot.
    private readonly RefusalBackoff _refusals = new(options.RetryDelay, RefusalBackoff.DefaultCap);
    private record StoredCredential(long AgentId, string Name, string Credential, string Server);
    private Sandbox.JobSandbox? _sandbox;

    public AgentProtocolClient Client => _client;

    public async Task RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        if (options.Target is not null)
        {
            // A node agent runs its target's steps on this machine, unsandboxed by design, and never a pool job.
            _client.UseCredential(await EnsureCredentialAsync(ct));
            await new Node.NodeAgentLoop(_client, options, _refusals, log).RunAsync(ct);
            return;
        }
        // No job runs before the slots start: whatever is in jobs/ was left by a killed agent.
        var leftovers = Path.Combine(options.WorkDirectory, "jobs");
        LeftoverJobs.KillUnder(leftovers, log);
        if (Directory.Exists(leftovers)) Directory.Delete(leftovers, recursive: true);
        // Before registering: an agent that cannot isolate its jobs must not take any.
        _sandbox = Sandbox.JobSandbox.Create(options);
        if (_sandbox.Mode == SandboxMode.None) log.LogWarning("agent {Name}: {Sandbox}", options.Name, _sandbox.Describe());
        else log.LogInformation("agent {Name}: {Sandbox}", options.Name, _sandbox.Describe());
        var credential = await EnsureCredentialAsync(ct);
        _client.UseCredential(credential);
        log.LogInformation("agent {Name} ready in pool {Pool} with {Slots} slots", options.Name, options.Pool, options.Slots);
        var slots = Enumerable.Range(0, Math.Max(1, options.Slots)).Select(i => Task.Run(() => SlotLoopAsync(i, ct), CancellationToken.None));
        await Task.WhenAll(slots);
    }

    private string CredentialPath => Path.Combine(options.WorkDirectory, "credential.json");

    private async Task<string> EnsureCredentialAsync(CancellationToken ct)
    {
        if (File.Exists(CredentialPath))
        {
            var stored = JsonSerializer.Deserialize<StoredCredential>(await File.ReadAllTextAsync(CredentialPath, ct));
            if (stored is not null && stored.Name == options.Name && (options.RegistrationToken is null || stored.Server == options.ServerUrl))
                return stored.Credential;
        }
        if (string.IsNullOrEmpty(options.RegistrationToken))
            throw new InvalidOperationException("this agent has no credential yet: pass --token with a registration token from 'slipway agent token create'");
        while (true)
        {
            try
            {
                var answer = await _client.RegisterAsync(options.RegistrationToken,
                    new RegisterAgentRequest(ProtocolVersion.Current, options.Name, options.Pool, options.Labels, options.Slots, options.Target), ct);
                var json = JsonSerializer.Serialize(new StoredCredential(answer.AgentId, answer.Name, answer.Credential, options.ServerUrl));
                await using (var file = new FileStream(CredentialPath, new FileStreamOptions
                {
                    Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                }))
                await using (var writer = new StreamWriter(file)) await writer.WriteAsync(json);
                log.LogInformation("registered as agent {Name} (id {Id}), status {Status}", answer.Name, answer.AgentId, answer.Status);
                if (options.Registered is not null) await options.Registered();
                return answer.Credential;
            }
            catch (HttpRequestException e)
            {
                log.LogWarning("cannot reach the server to register ({Error}); retrying", e.Message);
                await Task.Delay(options.RetryDelay, ct);
            }
        }
    }

    private async Task SlotLoopAsync(int slot, CancellationToken ct)
    {
        var executor = new JobExecutor(_client, options, _sandbox!, log);
        while (!ct.IsCancellationRequested)
        {
            JobLease? lease;
            var sentAt = RefusalBackoff.Mark();
            try
            {
                lease = await _client.PollAsync(1, options.PollWait, ct);
                if (_refusals.Accepted(sentAt)) log.LogInformation("slot {Slot}: the server accepts this agent again", slot);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (AgentRefusedException e)
            {
                var (wait, newStreak) = _refusals.Refused();
                if (newStreak) log.LogWarning("{Refusal}", RefusalMessage(e));
                await DelayAsync(wait, ct);
                continue;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                log.LogDebug("slot {Slot}: poll failed ({Error}); retrying", slot, e.Message);
                await DelayAsync(options.RetryDelay, ct);
                continue;
            }
            if (lease is null) continue;
            log.LogInformation("slot {Slot}: job {Job} ({Name}) of run {Run}", slot, lease.JobId, lease.JobName, lease.RunId);
            try { await executor.RunAsync(lease, ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // A slot must never die: the job's lease runs out and the server resolves it.
                log.LogError(e, "slot {Slot}: job {Job} ended with an agent error", slot, lease.JobId);
            }
        }
    }

    /// <summary>The one line logged when the server starts refusing this agent's polls.</summary>
    private string RefusalMessage(AgentRefusedException e) => e.Status switch
    {
        System.Net.HttpStatusCode.Unauthorized =>
            $"the server refuses this agent's credential ({e.Message}): agent '{options.Name}' was disabled or removed, or its credential was " +
            $"replaced; retrying ever more slowly (up to every {_refusals.Cap.TotalSeconds:0} s). To register it again, an admin removes it " +
            $"(slipway agent remove {options.Name}), then start the agent with a new --token and an empty work folder",
        System.Net.HttpStatusCode.Forbidden =>
            $"the server refused the poll: {e.Message}; polling ever more slowly (up to every {_refusals.Cap.TotalSeconds:0} s) until an admin " +
            $"approves it (slipway agent approve {options.Name})",
        _ => $"the server refused the poll ({(int)e.Status}): {e.Message}; retrying ever more slowly (up to every {_refusals.Cap.TotalSeconds:0} s)",
    };

    private static async Task DelayAsync(TimeSpan wait, CancellationToken ct)
    {
        try { await Task.Delay(wait, ct); }
        catch (OperationCanceledException) { }
    }

    public void Dispose() => _client.Dispose();
}
