using Slipway.Client;

namespace Slipway.Testing.Cluster;

/// <summary>
/// Several Slipway server nodes as issue 15 runs them: real <c>slipway server</c> processes on one PostgreSQL of their
/// own (so a test may restart it), one S3-compatible server (s3rver) for the blobs, one hosted-repository directory they
/// share, and HAProxy in front. Clients and agents talk to <see cref="Url"/> (the balancer) unless a test wants a node.
/// Disposing stops everything this kit started, by PID.
/// </summary>
public sealed class ClusterKit : IAsyncDisposable
{
    private readonly TempDirectory _root;
    private readonly List<ClusterNode> _nodes = [];

    public PostgresServer Postgres { get; }
    public string Database { get; }
    public S3Server S3 { get; }
    public string Prefix { get; } = S3Server.NewPrefix();
    public NodeBalancer Balancer { get; private set; } = null!;
    public IReadOnlyList<ClusterNode> Nodes => _nodes;
    public string Url => Balancer.Url;
    public string Root => _root.Path;
    public string HostedDirectory => Path.Combine(_root.Path, "hosted");

    /// <summary>The administrator's client through the balancer.</summary>
    public SlipwayClient Admin { get; private set; } = null!;

    private ClusterKit(TempDirectory root, PostgresServer postgres, string database, S3Server s3) =>
        (_root, Postgres, Database, S3) = (root, postgres, database, s3);

    public static async Task<ClusterKit> StartAsync(int nodes = 3, int dutyLeaseSeconds = 3, IReadOnlyDictionary<string, string>? environment = null)
    {
        var root = new TempDirectory();
        PostgresServer? postgres = null;
        S3Server? s3 = null;
        ClusterKit? kit = null;
        try
        {
            postgres = await PostgresServer.StartAsync();
            s3 = await S3Server.StartAsync();
            kit = new ClusterKit(root, postgres, await postgres.CreateDatabaseAsync(), s3);
            Directory.CreateDirectory(kit.HostedDirectory);
            for (var i = 1; i <= nodes; i++) kit.AddNode($"n{i}", dutyLeaseSeconds, environment);
            // The first node alone creates the schema and the administrator; the others then start side by side.
            kit._nodes[0].Start();
            await kit._nodes[0].WaitHealthyAsync(TimeSpan.FromSeconds(90));
            foreach (var node in kit._nodes.Skip(1)) node.Start();
            foreach (var node in kit._nodes.Skip(1)) await node.WaitHealthyAsync(TimeSpan.FromSeconds(90));
            kit.Balancer = await NodeBalancer.StartAsync(root.Path, kit._nodes);
            kit.Admin = new SlipwayClient(kit.Url, SlipwayTestServer.AdminToken);
            await Eventually.ValueAsync(async () => (await kit.Admin.Http.GetAsync("healthz")).IsSuccessStatusCode ? "up" : null,
                TimeSpan.FromSeconds(20), "the balancer's first healthy node");
            return kit;
        }
        catch
        {
            // A node (or the balancer) that started before something else failed to must not outlive the test run.
            if (kit?.Balancer is not null) await kit.Balancer.DisposeAsync();
            foreach (var node in kit?._nodes ?? [])
            {
                node.Kill();
                node.DisposeLog();
            }
            if (s3 is not null) await s3.DisposeAsync();
            if (postgres is not null) await postgres.DisposeAsync();
            root.Dispose();
            throw;
        }
    }

    private void AddNode(string name, int dutyLeaseSeconds, IReadOnlyDictionary<string, string>? extra)
    {
        var port = FreePort.Get();
        var data = Path.Combine(_root.Path, name);
        var env = new Dictionary<string, string>
        {
            ["SLIPWAY_BOOTSTRAP_TOKEN"] = SlipwayTestServer.AdminToken,
            ["SLIPWAY_HOSTED_DIR"] = HostedDirectory,
            ["SLIPWAY_S3_ENDPOINT"] = S3.Endpoint,
            ["SLIPWAY_S3_REGION"] = S3Server.Region,
            ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
            ["SLIPWAY_DUTY_LEASE_SECONDS"] = dutyLeaseSeconds.ToString(),
            ["SLIPWAY_POLL_SECONDS"] = "3600",
            ["SLIPWAY_POLL_WAIT_SECONDS"] = "5",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) env[k] = v;
        _nodes.Add(new ClusterNode(name, port, data, () =>
        [
            "server", "--data", data, "--urls", $"http://127.0.0.1:{port}", "--database", Database,
            "--blobs", $"s3://{S3.Bucket}/{Prefix}", "--node-name", name, "--no-agent",
        ], env));
    }

    public ClusterNode Node(string name) => _nodes.Single(n => n.Name == name);

    /// <summary>A client talking to one node directly, past the balancer.</summary>
    public SlipwayClient ClientOf(ClusterNode node) => new(node.Url, SlipwayTestServer.AdminToken);

    /// <summary>Starts a real <c>slipway agent</c> process that reaches the cluster through the balancer.</summary>
    public async Task<System.Diagnostics.Process> StartAgentAsync(string pool, string name, string work, int slots = 1)
    {
        var token = await Admin.CreateAgentTokenAsync(pool, preApproved: true);
        return SlipwayProcess.Start(["agent", "--server", Url, "--token", token.Token, "--work", work, "--name", name, "--slots", slots.ToString(), "--pool", pool]);
    }

    /// <summary>Every node's log, for a failure message.</summary>
    public string Logs() => string.Join("\n", _nodes.Select(n => $"===== {n.Name}\n{n.Tail(60)}"));

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        foreach (var node in _nodes) { node.Kill(); node.DisposeLog(); }
        if (Balancer is not null) await Balancer.DisposeAsync();
        await S3.DisposeAsync();
        await Postgres.DisposeAsync();
        _root.Dispose();
    }
}
