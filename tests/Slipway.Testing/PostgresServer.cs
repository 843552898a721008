using Npgsql;

namespace Slipway.Testing;

/// <summary>
/// A real, throw-away PostgreSQL cluster (initdb + pg_ctl) listening on 127.0.0.1 and a free port.
/// Tests get isolation by creating their own database with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private readonly TempDirectory _root;
    private readonly string _dataDir;
    private readonly bool _asPostgresUser;
    private bool _started;

    private PostgresServer(string binDir, TempDirectory root, bool asPostgresUser)
    {
        BinDir = binDir;
        _root = root;
        _asPostgresUser = asPostgresUser;
        _dataDir = System.IO.Path.Combine(root.Path, "data");
        SocketDir = System.IO.Path.Combine(root.Path, "sock");
        LogFile = System.IO.Path.Combine(root.Path, "postgres.log");
    }

    public string BinDir { get; }
    public int Port { get; private set; }
    public string SocketDir { get; }
    public string LogFile { get; }

    public static Task<PostgresServer> StartAsync() => Task.Run(Start);

    private static PostgresServer Start()
    {
        var bin = FindBinDir();
        // initdb refuses to run as root, so as root the cluster belongs to the "postgres" OS user.
        var asPostgres = Environment.UserName == "root" || Environment.IsPrivilegedProcess;
        // As root, use /tmp: the postgres user must be able to traverse every parent folder,
        // which a private TMPDIR such as /root/tmp would not allow.
        // test.sh sets SLIPWAY_TEST_PG_PARENT so it can stop clusters left behind by a killed test host.
        var parent = Environment.GetEnvironmentVariable("SLIPWAY_TEST_PG_PARENT");
        var root = !string.IsNullOrEmpty(parent) && Directory.Exists(parent) ? new TempDirectory(parent, "slipway-pg")
            : asPostgres ? new TempDirectory("/tmp", "slipway-pg")
            : new TempDirectory("slipway-pg");
        var server = new PostgresServer(bin, root, asPostgres);
        try
        {
            server.Init();
            server.StartCluster();
            return server;
        }
        catch
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The newest installed server, like <c>ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1</c>.</summary>
    private static string FindBinDir()
    {
        const string baseDir = "/usr/lib/postgresql";
        var candidates = Directory.Exists(baseDir)
            ? Directory.GetDirectories(baseDir)
                .Select(d => (Dir: System.IO.Path.Combine(d, "bin"), Version: ParseVersion(System.IO.Path.GetFileName(d))))
                .Where(c => c.Version is not null && File.Exists(System.IO.Path.Combine(c.Dir, "pg_ctl")))
                .OrderBy(c => c.Version)
                .ToList()
            : [];
        if (candidates.Count == 0)
            throw new InvalidOperationException(
                "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin. " +
                "Run ./test.sh from the repository root (it installs the postgresql package), " +
                "or install it with: apt-get install -y postgresql");
        return candidates[^1].Dir;
    }

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.') ? name : name + ".0", out var v) ? v : null;

    private void Init()
    {
        Directory.CreateDirectory(SocketDir);
        if (_asPostgresUser)
            Check(ProcessRunner.Run("/bin/chown", ["-R", $"{SuperUser}:{SuperUser}", _root.Path]), "chown");
        Check(RunPg("initdb", "-D", _dataDir, "-U", SuperUser, "--auth-local=trust", "--auth-host=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"), "initdb");
    }

    private void StartCluster()
    {
        // The free port can be taken between probing and binding, so try a few ports.
        ProcessResult? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreePort.Get();
            // pg_ctl hands -o to a shell; every path here is ours and contains no spaces.
            var options = $"-c listen_addresses=127.0.0.1 -p {Port} -k {SocketDir} " +
                          "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            last = RunPg("pg_ctl", "-D", _dataDir, "-w", "-t", "60", "-l", LogFile, "-o", options, "start");
            if (last.ExitCode == 0)
            {
                _started = true;
                return;
            }
        }
        Check(last!, "pg_ctl start");
    }

    private ProcessResult RunPg(string tool, params string[] args)
    {
        var exe = System.IO.Path.Combine(BinDir, tool);
        // Keep the caller's PG* variables (PGDATA, PGPORT...) from changing what the tools do.
        var env = new Dictionary<string, string?> { ["PGDATA"] = _dataDir, ["PGPORT"] = null, ["PGHOST"] = null };
        return _asPostgresUser
            ? ProcessRunner.Run("/usr/sbin/runuser", ["-u", SuperUser, "--", exe, .. args], _root.Path, env)
            : ProcessRunner.Run(exe, args, _root.Path, env);
    }

    private void Check(ProcessResult result, string what)
    {
        if (result.ExitCode == 0)
            return;
        throw new InvalidOperationException(
            $"PostgreSQL test server: {what} failed with exit code {result.ExitCode}.\n" +
            $"stdout: {result.StdOut.Trim()}\nstderr: {result.StdErr.Trim()}\n" +
            $"log tail ({LogFile}):\n{LogTail()}");
    }

    private string LogTail()
    {
        try
        {
            return File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(30)) : "(no log)";
        }
        catch (IOException ex)
        {
            return $"(log unreadable: {ex.Message})";
        }
    }

    /// <summary>Stops the server (fast shutdown: sessions are cut), as an operator's restart or a crash would; <see cref="StartAgainAsync"/> brings it back.</summary>
    public Task StopAsync() => Task.Run(() => Check(RunPg("pg_ctl", "-D", _dataDir, "-m", "fast", "-w", "stop"), "pg_ctl stop"));

    /// <summary>Starts the stopped server again on the same port.</summary>
    public Task StartAgainAsync() => Task.Run(() =>
    {
        var options = $"-c listen_addresses=127.0.0.1 -p {Port} -k {SocketDir} " +
                      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
        Check(RunPg("pg_ctl", "-D", _dataDir, "-w", "-t", "60", "-l", LogFile, "-o", options, "start"), "pg_ctl start");
    });

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = database,
        // Each test database is short-lived; small pools keep 300 connections enough for parallel tests (every node also holds
        // one for its name lock and one for LISTEN).
        MaxPoolSize = 20,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>Creates a new, empty, uniquely named database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"test_{Guid.NewGuid():N}";
        await using (var conn = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await conn.OpenAsync(cancellationToken);
            // The name is generated above (hex only), so quoting it is enough.
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            // Pooled idle connections would otherwise linger to a dead server.
            NpgsqlConnection.ClearAllPools();
            await Task.Run(() => RunPg("pg_ctl", "-D", _dataDir, "-m", "fast", "-w", "stop"));
            _started = false;
        }
        _root.Dispose();
    }
}
