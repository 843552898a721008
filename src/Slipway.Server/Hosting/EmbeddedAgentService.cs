using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Agent;
using Slipway.Server.Access;
using Slipway.Server.Storage;

namespace Slipway.Server.Hosting;

/// <summary>
/// The agent that runs inside the server process (pool <c>build</c>), so one command gives a working
/// system. It is a normal agent speaking the normal protocol over loopback HTTP; the only privilege is
/// that the server mints it a pre-approved registration token on its first start.
/// </summary>
public sealed class EmbeddedAgentService(ServerOptions options, IServer server, IHostApplicationLifetime lifetime, AgentStore agents,
    TimeProvider clock, ILoggerFactory logs) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.EmbeddedAgent) return;
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                      ?? throw new InvalidOperationException("the server has no address for the embedded agent");
        address = address.Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1");
        var agentOptions = new AgentOptions
        {
            ServerUrl = address,
            Name = Recovery.EmbeddedAgentName,
            Pool = "build",
            Labels = [],
            Slots = Math.Max(1, options.EmbeddedAgentSlots),
            WorkDirectory = options.EmbeddedAgentWorkDirectory,
            PollWait = TimeSpan.FromSeconds(Math.Min(20, options.AgentPollWait.TotalSeconds)),
            RetryDelay = TimeSpan.FromMilliseconds(500),
        };
        Directory.CreateDirectory(agentOptions.WorkDirectory);
        // Register afresh on every start (same name, so the same agent record): a credential file left from
        // another database (restored backup, switch to PostgreSQL) can then never lock the embedded agent out.
        File.Delete(Path.Combine(agentOptions.WorkDirectory, "credential.json"));
        var token = Tokens.New(Tokens.RegistrationPrefix);
        // Bound to the name: the one token that may take over the agent 'embedded' (issue 11).
        await agents.CreateRegistrationTokenAsync(Tokens.Hash(token), "build", preApproved: true, clock.GetUtcNow().ToUnixTimeMilliseconds(), Recovery.EmbeddedAgentName);
        agentOptions.RegistrationToken = token;
        agentOptions.Registered = () => agents.RevokeRegistrationTokenAsync(Tokens.Hash(token), clock.GetUtcNow().ToUnixTimeMilliseconds());
        using var agent = new AgentHost(agentOptions, logs.CreateLogger<AgentHost>());
        try { await agent.RunAsync(stoppingToken); }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }
}
