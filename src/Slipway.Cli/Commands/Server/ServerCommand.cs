using System.CommandLine;

namespace Slipway.Cli.Commands.Server;

/// <summary><c>slipway server [--data DIR] [--urls URL] [--database CONN] [--blobs s3://BUCKET/PREFIX|DIR] [--node-name NAME] [--no-agent] [--agent-slots N] [--agent-sandbox bwrap|none] [--demo]</c></summary>
public static class ServerCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data folder (default ./.slipway)" };
        var urls = new Option<string?>("--urls") { Description = "Listen address (default http://127.0.0.1:5080)" };
        var database = new Option<string?>("--database") { Description = "PostgreSQL connection string (default: SQLite in the data folder)" };
        var blobs = new Option<string?>("--blobs")
        {
            Description = "Where artifacts and archived logs are kept: s3://bucket/prefix (endpoint, region, credentials from SLIPWAY_S3_* and AWS_* variables), " +
                          "or an absolute directory every node mounts (default: the data folder)",
        };
        var nodeName = new Option<string?>("--node-name") { Description = "This node's name among the server nodes sharing the database (default: the host name)" };
        var noAgent = new Option<bool>("--no-agent") { Description = "Do not run the embedded agent" };
        var slots = new Option<int?>("--agent-slots") { Description = "Slots of the embedded agent (default: cores)" };
        var demo = new Option<bool>("--demo") { Description = "Create the demo project on start" };
        var sandbox = new Option<string?>("--agent-sandbox")
        {
            Description = "How the embedded agent isolates jobs: bwrap (default; needs bubblewrap) or none (only where everyone who can push is trusted with this machine)",
        };
        var command = new Command("server", "Run the Slipway server (with its embedded agent)") { data, urls, database, blobs, nodeName, noAgent, slots, demo, sandbox };
        command.SetAction(async (result, ct) =>
        {
            var options = new ServerOptions();
            if (result.GetValue(data) is { } d) options.DataDirectory = d;
            if (result.GetValue(urls) is { } u) options.Urls = u;
            if (result.GetValue(database) is { } db) options.Database = db;
            if (result.GetValue(blobs) is { } b) options.Blobs = b;
            if (result.GetValue(nodeName) is { } node)
            {
                try { Slipway.Core.Nodes.NodeNames.Check(node); }
                catch (ArgumentException e)
                {
                    await Console.Error.WriteLineAsync($"error: --node-name: {e.Message}");
                    return 2;
                }
                options.NodeName = node;
            }
            if (result.GetValue(noAgent)) options.EmbeddedAgent = false;
            if (result.GetValue(slots) is { } s) options.EmbeddedAgentSlots = s;
            options.Demo = result.GetValue(demo);
            try
            {
                if (result.GetValue(sandbox) is { } mode) options.AgentSandbox = Slipway.Agent.AgentOptions.ParseSandbox(mode);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }
            await using var app = SlipwayServer.Build(options);
            try { await SlipwayServer.PrepareAsync(app); }
            catch (Exception e) when (e is Slipway.Agent.Sandbox.SandboxUnavailableException or Slipway.Server.Blobs.BlobStoreException
                                           or Slipway.Server.Nodes.NodeNameInUseException or Slipway.Server.Nodes.SharedStorageException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            await app.StartAsync(ct);
            Console.WriteLine($"Slipway is listening on {string.Join(", ", app.Urls)} (data in {options.FullDataDirectory})");
            var tokenFile = Path.Combine(options.FullDataDirectory, Bootstrap.TokenFile);
            if (options.Demo)
            {
                Console.WriteLine(File.Exists(tokenFile)
                    ? $"Open {app.Urls.First()}/projects/demo and sign in with the token in {tokenFile} (deleted once you have signed in with it)"
                    : $"Open {app.Urls.First()}/projects/demo and sign in as admin");
                Console.WriteLine(
                    $"The demo plays DEMO-1 from request to staging as {DemoStory.Analyst} (analyst), {DemoStory.Developer} and {DemoStory.Reviewer} " +
                    "(developers), who have no password. Production waits: promote as admin, then approve as " +
                    $"{DemoStory.Analyst} once an admin gave her a password:\n" +
                    $"  slipway promote demo --to production; slipway user set-password {DemoStory.Analyst} --password-stdin");
            }
            // Until Ctrl-C or SIGTERM, or until the server stops itself (another process took its node name).
            using var running = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
            try { await Task.Delay(Timeout.Infinite, running.Token); } catch (OperationCanceledException) { }
            await app.StopAsync(CancellationToken.None);
            return ct.IsCancellationRequested ? 0 : 1;
        });
        return command;
    }
}
