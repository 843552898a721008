using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Agent;
using Slipway.Agent.Sandbox;

namespace Slipway.Server.Agents;

/// <summary>
/// The agent that runs inside the server process (pool <c>build</c>), so one command gives a working
/// system. It is a normal agent speaking the normal protocol over loopback HTTP; the only privilege is
/// that the server mints it a pre-approved registration token on its first start. Its jobs run branch code on the
/// server's own machine, so they run in the agent's sandbox with the whole data folder hidden (ADR 0006).
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

        var address = LoopbackAddress(server);
        var agentOptions = Options(options);
        agentOptions.ServerUrl = address;
        agentOptions.PollWait = TimeSpan.FromSeconds(Math.Min(20, options.AgentPollWait.TotalSeconds));
        Directory.CreateDirectory(agentOptions.WorkDirectory);
        // Register afresh on every start (same name, so the same agent record): a credential file left from
        // another database (restored backup, switch to PostgreSQL) can then never lock the embedded agent out.
        File.Delete(Path.Combine(agentOptions.WorkDirectory, "credential.json"));
        var token = Tokens.New(Tokens.RegistrationPrefix);
        // Bound to the name: the one token that may take over the agent 'embedded' (issue 11).
        // It is revoked once used; should the server stop before that, it still expires within the hour.
        var now = clock.GetUtcNow();
        await agents.CreateRegistrationTokenAsync(Tokens.Hash(token), "build", preApproved: true, now.ToUnixTimeMilliseconds(), Recovery.EmbeddedAgentName(options),
            expiresAt: now.AddHours(1).ToUnixTimeMilliseconds());
        agentOptions.RegistrationToken = token;
        agentOptions.Registered = () => agents.RevokeRegistrationTokenAsync(Tokens.Hash(token), clock.GetUtcNow().ToUnixTimeMilliseconds());
        using var agent = new AgentHost(agentOptions, logs.CreateLogger<AgentHost>());
        try { await agent.RunAsync(stoppingToken); }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>The server's own first address, a wildcard host made loopback: how in-process clients (this agent, the demo) call it.</summary>
    public static string LoopbackAddress(IServer server)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                      ?? throw new InvalidOperationException("the server has no address to call itself at");
        return address.Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1");
    }

    /// <summary>The embedded agent's settings: pool build, work folder DATA/agent, and the data folder hidden from its jobs.</summary>
    private static AgentOptions Options(ServerOptions options) => new()
    {
        Name = Recovery.EmbeddedAgentName(options),
        Pool = "build",
        Labels = [],
        Slots = Math.Max(1, options.EmbeddedAgentSlots),
        WorkDirectory = options.EmbeddedAgentWorkDirectory,
        RetryDelay = TimeSpan.FromMilliseconds(500),
        Sandbox = options.AgentSandbox,
        SandboxHide = [.. AgentOptions.PathList("SLIPWAY_AGENT_SANDBOX_HIDE"), options.FullDataDirectory, options.FullHostedDirectory, .. LocalBlobs(options),
            .. DatabaseSockets(options)],
        InsideServer = true,
    };

    /// <summary>A blob store in a directory of its own (--blobs /dir): every project's artifacts and logs, hidden like the data folder.</summary>
    private static IEnumerable<string> LocalBlobs(ServerOptions options) =>
        options.Blobs is { } blobs && Path.IsPathFullyQualified(blobs) ? [Path.GetFullPath(blobs)] : [];

    /// <summary>
    /// On PostgreSQL, the folders of its local sockets: a job must not reach the server's database through them (with
    /// Debian's default peer authentication a job running as the server's user would log in as it, key ring included).
    /// </summary>
    private static IEnumerable<string> DatabaseSockets(ServerOptions options)
    {
        if (string.IsNullOrEmpty(options.Database)) return [];
        var folders = new List<string> { "/run/postgresql", "/var/run/postgresql" };
        folders.AddRange(SocketFoldersOf(options.Database));
        return folders;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)] // Npgsql only on PostgreSQL
    private static IEnumerable<string> SocketFoldersOf(string database)
    {
        // Host may list several hosts ("/run/a,/run/b,db.internal"): every one that is a socket folder.
        try
        {
            var hosts = new Npgsql.NpgsqlConnectionStringBuilder(PostgresAddress.ToConnectionString(database)).Host ?? "";
            return hosts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(h => h.StartsWith('/')).ToList();
        }
        catch (ArgumentException) { return []; }
    }

    /// <summary>
    /// Checks at start-up that the embedded agent can sandbox its jobs, so a server that cannot fails at once with what to
    /// do instead of running branch code beside its data (or waiting for an agent that never comes).
    /// </summary>
    public static void EnsureSandbox(ServerOptions options)
    {
        if (!options.EmbeddedAgent) return;
        Directory.CreateDirectory(options.EmbeddedAgentWorkDirectory);
        try { JobSandbox.Create(Options(options)); }
        catch (SandboxUnavailableException e)
        {
            throw new SandboxUnavailableException(
                $"the embedded agent runs every job in a sandbox, and {e.Message}. Alternatively run the server with --no-agent and " +
                "connect agents from other machines, or, only where everyone who can push is trusted with this machine, " +
                "SLIPWAY_AGENT_SANDBOX=none (docs/operations.md#job-sandbox)");
        }
    }
}
