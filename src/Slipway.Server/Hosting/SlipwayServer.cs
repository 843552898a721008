using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Core.Audit;

namespace Slipway.Server.Hosting;

/// <summary>
/// Builds the server: storage (SQLite in the data folder or PostgreSQL), migrations, services, the
/// middleware chain (errors → security headers → routing → access) and every endpoint.
/// Used by <c>slipway server</c> and by the tests, which start real servers on port 0.
/// </summary>
public static class SlipwayServer
{
    public static WebApplication Build(ServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        Core.Nodes.NodeNames.Check(options.NodeName); // a bad SLIPWAY_NODE_NAME stops the start here, not in a worker
        // The data folder holds the database (password hashes, encrypted secrets) and the Data Protection key
        // ring, which is stored unencrypted on Linux: only the server's user may read either.
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (!Directory.Exists(options.FullDataDirectory)) Directory.CreateDirectory(options.FullDataDirectory, OwnerOnly);
        // Created now even when empty: the embedded agent's sandbox hides only folders that exist when it starts.
        if (!Directory.Exists(options.FullHostedDirectory)) Directory.CreateDirectory(options.FullHostedDirectory, OwnerOnly);
        var keyRing = Path.Combine(options.FullDataDirectory, "keys");
        Directory.CreateDirectory(keyRing, OwnerOnly);
        File.SetUnixFileMode(keyRing, OwnerOnly);
        var database = options.Database is { Length: > 0 } pg
            ? SqlDatabase.ForPostgres(pg)
            : SqlDatabase.ForSqliteFile(Path.Combine(options.FullDataDirectory, "slipway.db"));
        // Not migrated here: PrepareAsync migrates once it knows no other server runs on this folder or under this name.

        // No reloading of configuration files (issue 12): Slipway reads none (its settings are options and SLIPWAY_*
        // variables), and the reload watched the whole data folder with a FileSystemWatcher thread that woke up on
        // every database and log write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = options.FullDataDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else if (LogsAsText(Environment.GetEnvironmentVariable("SLIPWAY_LOG_FORMAT"), Console.IsOutputRedirected))
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; o.IncludeScopes = false; });
        else builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(options);
        builder.Services.AddSlipwayStorage(database).AddSlipwayAccess().AddSlipwayScheduling();
        builder.Services.AddHostedService<EmbeddedAgentService>();
        if (options.IdleTrim) builder.Services.AddHostedService<IdleMemoryTrimmer>();
        if (options.Demo) builder.Services.AddHostedService<DemoStory>(); // after the agent: its runs need one
        builder.Services.AddRazorComponents();
        // The REST API's description (docs/api.md), generated from the endpoints themselves: only /api/v1, not the
        // web pages, git's smart HTTP or the metrics.
        builder.Services.AddOpenApi("v1", o => o.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true);
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "slipway_af";
            o.HeaderName = "X-Slipway-Antiforgery"; // the UI script's fetch calls send it; forms send the hidden field
        });
        // A fixed application name: the default (the content root path) would make every secret undecryptable
        // after the data folder is restored to another path.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("Slipway");
        if (database.Dialect == SqlDialect.Postgres)
        {
            // Several nodes share one PostgreSQL: they must share the key ring too (a ring kept in DATA/keys until now is imported once).
            var ring = new DatabaseKeyRing(database); // a ring kept in DATA/keys is imported by PrepareAsync, after the migration
            builder.Services.AddSingleton(ring);
            dataProtection.Services.Configure<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(o => o.XmlRepository = ring);
        }
        else dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keyRing));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var app = builder.Build();
        if (options.TrustedProxies is { Length: > 0 } proxies) app.UseForwardedHeaders(ForwardedFrom(proxies));
        app.UseMiddleware<ErrorHandling>();
        app.Use(SecurityHeaders);
        app.UseRouting();
        app.UseMiddleware<AccessMiddleware>();
        // After routing (it reads the endpoint's WaitsByDesign) and access: a refused request is no work in hand.
        app.Use(app.Services.GetRequiredService<OpenRequests>().CountAsync);
        app.UseAntiforgery();

        var api = app.MapGroup("/api/v1");
        api.MapProjectsApi();
        api.MapVariablesApi();
        api.MapWorkItemsApi();
        api.MapReleasesApi();
        api.MapChangeRequestsApi();
        api.MapRepositorySettingsApi();
        api.MapEnvironmentsApi();
        api.MapGatesApi();
        api.MapChecksApi();
        api.MapTargetsApi();
        api.MapDeploymentsApi();
        api.MapRunsApi();
        api.MapLogsApi();
        api.MapAgentsApi();
        api.MapNodesApi();
        api.MapWebhooksApi();
        api.MapProtectedBranchesApi();
        api.MapReleaseBranchesApi();
        api.MapUsersApi();
        api.MapRolesApi();
        api.MapTokensApi();
        api.MapAuditApi();
        app.MapSystemApi(api);
        app.MapAgentProtocolApi();
        app.MapGitHttpApi();
        app.MapWebUi();
        return app;
    }

    /// <summary>
    /// The console log's format: one JSON object per line for a log collector (stdout redirected: systemd, a container, a
    /// file), single-line text for a person at a terminal (./start.sh); SLIPWAY_LOG_FORMAT=json or text decides instead.
    /// </summary>
    public static bool LogsAsText(string? format, bool outputRedirected) => format?.Trim().ToLowerInvariant() switch
    {
        "text" => true,
        "json" => false,
        null or "" => !outputRedirected,
        var other => throw new ArgumentException($"SLIPWAY_LOG_FORMAT is '{other}'; set it to json or text"),
    };

    /// <summary>Believe X-Forwarded-For/-Proto only from the configured proxies (never from anyone by default).</summary>
    private static ForwardedHeadersOptions ForwardedFrom(string proxies)
    {
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var address in proxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(address));
        return forwarded;
    }

    /// <summary>A strict CSP: only our own script and styles, no inline code, no framing.</summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var h = context.Response.Headers;
        h.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
                                  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        return next();
    }

    /// <summary>Runs first-start work (admin token, recovery, demo) then serves until stopped.</summary>
    public static async Task PrepareAsync(WebApplication app)
    {
        var services = app.Services;
        var options = services.GetRequiredService<ServerOptions>();
        var clock = services.GetRequiredService<TimeProvider>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Slipway.Server");
        // First: nothing below (the migration, least of all the recovery that fails a restarted node's embedded-agent jobs)
        // may run while another process runs on this data folder or under this node name.
        await services.GetRequiredService<NodeNameClaim>().TakeAsync();
        Migrator.Upgrade(services.GetRequiredService<SqlDatabase>());
        services.GetService<DatabaseKeyRing>()?.ImportFromFolder(Path.Combine(options.FullDataDirectory, "keys"));
        EmbeddedAgentService.EnsureSandbox(options);
        var blobs = services.GetRequiredService<IBlobStore>();
        log.LogInformation("Blob store: {BlobStore}", blobs.Description);
        await blobs.CheckAsync(CancellationToken.None);
        await Nodes.SharedStorageCheck.RunAsync(services.GetRequiredService<SqlDatabase>(), blobs, options, clock, CancellationToken.None);
        if (await Bootstrap.CreateAdminAsync(services.GetRequiredService<UserStore>(), options, clock, log) is not null)
            await services.GetRequiredService<Audit.AuditLog>().RecordAsync(new Audit.AuditRecord(AuditActorKinds.System, "slipway", null,
                Core.Access.Actions.UserManage, "user:admin", AuditOutcomes.Succeeded, "first start: admin created with a one-time API token"));
        services.GetRequiredService<InitialAdminTokenFile>().Load();
        await Recovery.ResolveEmbeddedAgentJobsAsync(services, log);
        await Git.RepositoryAddressRepair.RunAsync(services, log);
        if (options.Demo) await DemoProject.EnsureAsync(services, log);
    }
}
