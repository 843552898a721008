using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Client;
using Slipway.Contracts.Api;

namespace Slipway.Testing;

/// <summary>
/// A real Slipway server in the test process: real Kestrel on a free loopback port, a real SQLite file
/// (or PostgreSQL) in its own folder, and (unless disabled) its embedded agent running real bash jobs.
/// </summary>
public sealed class SlipwayTestServer : IAsyncDisposable
{
    public const string AdminToken = "slp_test-admin-token-0123456789abcdef";
    private readonly bool _ownsData;

    private SlipwayTestServer(WebApplication app, ServerOptions options, bool ownsData)
    {
        App = app;
        Options = options;
        _ownsData = ownsData;
        Url = app.Urls.First();
        Client = new SlipwayClient(Url, AdminToken);
    }

    public WebApplication App { get; }
    public ServerOptions Options { get; }
    public string Url { get; }
    public SlipwayClient Client { get; }
    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <param name="logs">Receives the server's log entries (as the console would, warnings and up from ASP.NET Core); by default none are kept.</param>
    public static async Task<SlipwayTestServer> StartAsync(Action<ServerOptions>? configure = null, string? dataDirectory = null, ILoggerProvider? logs = null)
    {
        var data = dataDirectory ?? Path.Combine(Path.GetTempPath(), "slipway-test-" + Guid.NewGuid().ToString("N")[..12]);
        var options = new ServerOptions
        {
            DataDirectory = data,
            Urls = "http://127.0.0.1:0",
            Database = null,
            EmbeddedAgent = true,
            EmbeddedAgentSlots = 2,
            PollInterval = TimeSpan.FromHours(1),
            LeaseTimeout = TimeSpan.FromSeconds(30),
            AgentPollWait = TimeSpan.FromSeconds(5),
            BootstrapToken = AdminToken,
            IdleTrim = false, // the test process's GC is shared by every server in it (IdleMemoryTrimmerTests start a real process)
        };
        configure?.Invoke(options);
        var app = SlipwayServer.Build(options, logging =>
        {
            if (logs is null) logging.AddFilter(_ => false);
            else logging.AddProvider(logs);
        });
        try
        {
            await SlipwayServer.PrepareAsync(app);
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync(); // a refused start lets go of whatever it took (the data folder's lock)
            throw;
        }
        return new SlipwayTestServer(app, options, ownsData: dataDirectory is null);
    }

    /// <summary>Creates a project (which starts the first run of its default branch) and returns that run's id.</summary>
    public async Task<long> CreateProjectAsync(string name, string repo)
    {
        await Client.CreateProjectAsync(name, repo, "main");
        return (await Client.ListRunsAsync(name)).Single().Id;
    }

    /// <summary>Creates a project (which starts the first run of its default branch) and waits for that run to end.</summary>
    public async Task<RunDto> CreateProjectAndWaitAsync(string name, string repo, TimeSpan? timeout = null)
    {
        return await WaitForRunAsync(await CreateProjectAsync(name, repo), timeout);
    }

    /// <summary>Polls the run until it reaches a final status (or throws after <paramref name="timeout"/>).</summary>
    public async Task<RunDto> WaitForRunAsync(long id, TimeSpan? timeout = null, Func<RunDto, bool>? until = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        until ??= r => r.Status is "succeeded" or "failed" or "cancelled";
        RunDto run;
        do
        {
            run = await Client.GetRunAsync(id);
            if (until(run)) return run;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"run {id} still {run.Status} after the timeout: {System.Text.Json.JsonSerializer.Serialize(run)}");
    }

    /// <summary>The whole log of a job, read through the paging API.</summary>
    public Task<string> LogAsync(long runId, string job) => Client.WholeLogAsync(runId, job);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try { await App.StopAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { }
        await App.DisposeAsync();
        if (_ownsData)
        {
            try { Directory.Delete(Options.FullDataDirectory, recursive: true); } catch (Exception) { }
        }
    }
}

public static class WebAppExtensions
{
    public static Task StopAsync(this WebApplication app, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return app.StopAsync(cts.Token);
    }
}
