// Slipway dispatch benchmark: starts a real server (+ agent) on 127.0.0.1, measures dispatch latency,
// throughput, 50 MB log streaming and memory, and compares with Buildbot's figures from its harness.
//
//   slipway-bench-dispatch run --dll PATH/slipway.dll --out slipway.json [--variants embedded,separate]
//       [--latency-n 50] [--throughput-n 200] [--log-reps 3] [--gap-ms 500] [--poll-ms 5]
//   slipway-bench-dispatch compare --slipway slipway.json [--peer PATH/results.jsonl]
//
// All timestamps for latencies are wall-clock (CLOCK_REALTIME) nanoseconds: the bench takes one just before
// the POST, the job's first command writes `date +%s%N` to a marker file. Server timestamps are ms.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Slipway.Client;
using Slipway.Contracts.Api;

namespace Slipway.Bench.Dispatch;

public static partial class Program
{
    public const string LogLine = "some log line of about eighty characters ..............................";
    public static readonly string LogCommand = $"yes '{LogLine}' | head -c 50000000";

    public static async Task<int> Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length == 0) { Console.Error.WriteLine("usage: run --dll PATH --out FILE | compare --slipway FILE [--peer results.jsonl]"); return 2; }
        var opts = Args.Parse(args.Skip(1));
        switch (args[0])
        {
            case "run":
                var results = new JsonObject
                {
                    ["date"] = DateTime.UtcNow.ToString("O"),
                    ["machine"] = Machine.Describe(),
                };
                foreach (var variant in opts.Get("variants", "embedded,separate").Split(','))
                {
                    Console.WriteLine($"\n=== Slipway, {variant} agent (2 slots) ===");
                    try { results[variant] = await new SlipwayBench(variant, opts).RunAsync(); }
                    catch (Exception e)
                    {
                        Console.WriteLine($"!! variant {variant} failed: {e}");
                        results[variant] = new JsonObject { ["error"] = e.Message };
                    }
                }
                await File.WriteAllTextAsync(opts.Require("out"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                Console.WriteLine($"\nraw Slipway results -> {opts.Require("out")}");
                return 0;
            case "compare":
                Compare.Print(opts.Require("slipway"), opts.Get("peer", ""), opts.Get("peer-note", ""));
                return 0;
            default:
                Console.Error.WriteLine($"unknown command {args[0]}");
                return 2;
        }
    }
}

public sealed class Args
{
    private readonly Dictionary<string, string> _v = new();
    public static Args Parse(IEnumerable<string> args)
    {
        var a = new Args();
        string? key = null;
        foreach (var s in args)
        {
            if (s.StartsWith("--")) { key = s[2..]; a._v[key] = "true"; }
            else if (key is not null) { a._v[key] = s; key = null; }
        }
        return a;
    }
    public string Get(string k, string d) => _v.TryGetValue(k, out var v) ? v : d;
    public int Int(string k, int d) => _v.TryGetValue(k, out var v) ? int.Parse(v) : d;
    public string Require(string k) => _v.TryGetValue(k, out var v) ? v : throw new ArgumentException($"--{k} is required");
}

public static class Clock
{
    /// <summary>Wall-clock ns since the Unix epoch (same clock as `date +%s%N`).</summary>
    public static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
    public static long Ns(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * 1_000_000;
}

public static class Stats
{
    public static double Percentile(IReadOnlyList<double> xs, double p)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        // nearest-rank with linear interpolation (same as numpy's default)
        var pos = (s.Length - 1) * p;
        var lo = (int)Math.Floor(pos);
        var hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
    public static JsonObject Of(IEnumerable<double> values, int digits = 2)
    {
        var xs = values.Where(v => !double.IsNaN(v)).ToList();
        if (xs.Count == 0) return new JsonObject { ["n"] = 0 };
        return new JsonObject
        {
            ["n"] = xs.Count,
            ["median"] = Math.Round(Percentile(xs, 0.5), digits),
            ["p95"] = Math.Round(Percentile(xs, 0.95), digits),
            ["min"] = Math.Round(xs.Min(), digits),
            ["max"] = Math.Round(xs.Max(), digits),
        };
    }
    public static string Fmt(JsonNode? s, string unit = "ms", int digits = 1) =>
        s is null || (int)s["n"]! == 0 ? "-" :
        $"median {((double)s["median"]!).ToString("F" + digits)} {unit}, p95 {((double)s["p95"]!).ToString("F" + digits)}, " +
        $"min {((double)s["min"]!).ToString("F" + digits)}, max {((double)s["max"]!).ToString("F" + digits)} (n={s["n"]})";
}

/// <summary>/proc readings: memory, CPU of our processes, and the whole machine's load.</summary>
public static class Machine
{
    public static JsonObject Describe() => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["uname"] = File.Exists("/proc/version") ? File.ReadAllText("/proc/version").Trim() : "",
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["cpu"] = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "",
        ["mem_total_mib"] = MemTotalMiB(),
    };

    private static long MemTotalMiB() =>
        long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;

    public static string LoadAvg() => File.ReadAllText("/proc/loadavg").Trim();

    /// <summary>VmRSS and VmHWM in MiB.</summary>
    public static (double Rss, double Hwm) Memory(int pid)
    {
        double rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:")) rss = Kb(line) / 1024.0;
            if (line.StartsWith("VmHWM:")) hwm = Kb(line) / 1024.0;
        }
        return (Math.Round(rss, 1), Math.Round(hwm, 1));
        static long Kb(string l) => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    private static readonly long Tck = 100; // sysconf(_SC_CLK_TCK) on Linux

    /// <summary>utime+stime (+ reaped children's cutime+cstime) of a pid, seconds.</summary>
    public static (double Self, double Children) Cpu(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            // after ")": state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
            return ((long.Parse(f[11]) + long.Parse(f[12])) / (double)Tck, (long.Parse(f[13]) + long.Parse(f[14])) / (double)Tck);
        }
        catch (IOException) { return (0, 0); }
    }

    /// <summary>Busy CPU seconds of the whole machine (all cores).</summary>
    public static double MachineBusy()
    {
        var v = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)Tck;
    }
}

/// <summary>CPU and load accounting around one measurement.</summary>
public sealed class CpuWindow
{
    private readonly int[] _pids;
    private readonly double[] _self, _children;
    private readonly double _machine, _bench;
    private readonly long _t0;
    private readonly string _load0;

    public CpuWindow(params int[] pids)
    {
        _pids = pids;
        _self = pids.Select(p => Machine.Cpu(p).Self).ToArray();
        _children = pids.Select(p => Machine.Cpu(p).Children).ToArray();
        _machine = Machine.MachineBusy();
        _bench = Machine.Cpu(Environment.ProcessId).Self;
        _t0 = Stopwatch.GetTimestamp();
        _load0 = Machine.LoadAvg();
    }

    public JsonObject End(int units, string unitName)
    {
        var wall = Stopwatch.GetElapsedTime(_t0).TotalSeconds;
        var o = new JsonObject();
        double ours = 0;
        for (var i = 0; i < _pids.Length; i++)
        {
            var (s, c) = Machine.Cpu(_pids[i]);
            var self = s - _self[i];
            var children = c - _children[i];
            ours += self + children;
            o[$"pid{i}_cpu_s"] = Math.Round(self, 2);
            o[$"pid{i}_children_cpu_s"] = Math.Round(children, 2);
            if (units > 0) o[$"pid{i}_cpu_ms_per_{unitName}"] = Math.Round((self + children) * 1000 / units, 1);
        }
        var bench = Machine.Cpu(Environment.ProcessId).Self - _bench;
        ours += bench;
        var busy = Machine.MachineBusy() - _machine;
        o["bench_cpu_s"] = Math.Round(bench, 2);
        o["wall_s"] = Math.Round(wall, 2);
        o["machine_busy_cores"] = Math.Round(busy / wall, 2);
        o["other_procs_cores"] = Math.Round(Math.Max(0, busy - ours) / wall, 2);
        o["loadavg_before"] = _load0;
        o["loadavg_after"] = Machine.LoadAvg();
        return o;
    }
}

/// <summary>A child process started by the bench, stopped by its PID only.</summary>
public sealed partial class Child : IDisposable
{
    private readonly Process _p;
    public int Pid => _p.Id;
    public string LogFile { get; }

    private Child(Process p, string log) { _p = p; LogFile = log; }

    /// <summary>Starts `dotnet DLL ARGS...` with stdout+stderr to LOG (exec keeps the PID the dotnet one).</summary>
    public static Child Start(string dll, IEnumerable<string> args, IDictionary<string, string> env, string log)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" >\"$BENCH_CHILD_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.Environment["BENCH_CHILD_LOG"] = log;
        var p = Process.Start(psi)!;
        return new Child(p, log);
    }

    public bool Exited => _p.HasExited;

    public void Stop()
    {
        if (_p.HasExited) return;
        _ = kill(_p.Id, 15);
        if (!_p.WaitForExit(10_000)) { try { _p.Kill(); } catch (InvalidOperationException) { } _p.WaitForExit(5000); }
    }

    public void Dispose() { Stop(); _p.Dispose(); }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

public sealed class SlipwayBench(string variant, Args opts)
{
    private static readonly string[] Terminal = ["succeeded", "failed", "cancelled"];
    private readonly int _latencyN = opts.Int("latency-n", 50);
    private readonly int _warmup = opts.Int("warmup", 2);
    private readonly int _throughputN = opts.Int("throughput-n", 200);
    private readonly int _logReps = opts.Int("log-reps", 3);
    private readonly int _gapMs = opts.Int("gap-ms", 500);
    private readonly int _pollMs = opts.Int("poll-ms", 5);
    private readonly string _dll = Path.GetFullPath(opts.Require("dll"));
    private readonly string _root = Directory.CreateTempSubdirectory("slipway-bench-").FullName;
    private string Markers => Path.Combine(_root, "markers");
    private SlipwayClient _api = null!;
    private Child _server = null!;
    private Child? _agent;

    private int[] Pids => _agent is null ? [_server.Pid] : [_server.Pid, _agent.Pid];

    public async Task<JsonObject> RunAsync()
    {
        var result = new JsonObject { ["variant"] = variant, ["workdir"] = _root };
        Directory.CreateDirectory(Markers);
        // Jobs run sandboxed (ADR 0006): the marker folder is the one host folder they may write, shared with them
        // (writable by the unprivileged account jobs run as when the agent is root).
        File.SetUnixFileMode(Markers, (UnixFileMode)0x1FF | UnixFileMode.StickyBit);
        new DirectoryInfo(_root).UnixFileMode |= UnixFileMode.OtherExecute;
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var env = new Dictionary<string, string>
        {
            ["SLIPWAY_BOOTSTRAP_TOKEN"] = token,
            ["SLIPWAY_POLL_SECONDS"] = "3600",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["SLIPWAY_AGENT_SANDBOX_SHARE"] = Markers,
        };
        var serverArgs = new List<string> { "server", "--data", Path.Combine(_root, "data"), "--urls", url };
        serverArgs.AddRange(variant == "separate" ? ["--no-agent"] : ["--agent-slots", "2"]);
        var t0 = Stopwatch.GetTimestamp();
        _server = Child.Start(_dll, serverArgs, env, Path.Combine(_root, "server.log"));
        try
        {
            _api = new SlipwayClient(url, token);
            await WaitHealthyAsync();
            result["server_ready_s"] = Math.Round(Stopwatch.GetElapsedTime(t0).TotalSeconds, 2);
            if (variant == "separate")
            {
                var reg = await PostJsonAsync("api/v1/agents/tokens", new { pool = "build", preApproved = true });
                var regToken = (string)reg["token"]!;
                _agent = Child.Start(_dll,
                    ["agent", "--server", url, "--token", regToken, "--slots", "2", "--work", Path.Combine(_root, "agent-work"), "--name", "bench-agent"],
                    new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["SLIPWAY_AGENT_SANDBOX_SHARE"] = Markers }, Path.Combine(_root, "agent.log"));
            }
            Console.WriteLine($"server pid {_server.Pid}{(_agent is null ? " (embedded agent)" : $", agent pid {_agent.Pid}")} on {url}, data in {_root}");

            // Projects: "b" = marker + true, "log" = 50 MB of output. Creating each starts one run of main.
            await CreateProjectAsync("b", $"""
                stages:
                  - name: s
                    jobs:
                      - name: t
                        run: |
                          date +%s%N > "{Markers}/$SLIPWAY_RUN"
                          true
                """);

            await WaitProjectIdleAsync("b");
            result["first_run_done_s"] = Math.Round(Stopwatch.GetElapsedTime(t0).TotalSeconds, 2);
            await Task.Delay(2000); // settle before the idle sample
            result["rss_idle"] = Rss("idle (started, first run of a `true` job finished)");

            result["latency"] = await LatencyAsync();
            result["rss_after_latency"] = Rss("after latency runs");
            result["throughput"] = await ThroughputAsync();
            result["rss_after_throughput"] = Rss("after throughput runs");
            // created only now: its automatic first run prints 50 MB, which must not count as "idle"
            await CreateProjectAsync("log", $"""
                stages:
                  - name: s
                    jobs:
                      - name: log
                        run: |
                          date +%s%N > "{Markers}/$SLIPWAY_RUN.start"
                          set +o pipefail
                          {Program.LogCommand}
                          date +%s%N > "{Markers}/$SLIPWAY_RUN.end"
                """);
            await WaitProjectIdleAsync("log");
            result["log"] = await LogAsync();
            result["logbase"] = LogBase();
            result["rss_end"] = Rss("after all");
            result["get_run_cost"] = await GetCostAsync();
            return result;
        }
        catch
        {
            Console.WriteLine($"server log tail ({_server.LogFile}):");
            foreach (var l in File.ReadLines(_server.LogFile).TakeLast(30)) Console.WriteLine("  " + l);
            throw;
        }
        finally
        {
            _agent?.Dispose();
            _server.Dispose();
            _api?.Dispose();
            if (opts.Get("keep", "false") != "true")
                try { Directory.Delete(_root, true); } catch (Exception) { }
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_server.Exited) throw new InvalidOperationException("the server exited at start-up");
            try
            {
                using var r = await _api.Http.GetAsync("healthz");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException("server not healthy after 60 s");
    }

    private async Task<JsonNode> PostJsonAsync(string path, object body)
    {
        using var r = await _api.Http.PostAsJsonAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task CreateProjectAsync(string name, string pipeline)
    {
        var repo = Path.Combine(_root, "repo-" + name);
        Directory.CreateDirectory(repo);
        Git(repo, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(repo, ".slipway.yml"), pipeline);
        Git(repo, "add", ".slipway.yml");
        Git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "bench pipeline");
        await PostJsonAsync("api/v1/projects", new { name, repo, branch = "main" });
    }

    private static void Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = dir, UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {err}");
    }

    private async Task WaitProjectIdleAsync(string project)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            var runs = await _api.ListRunsAsync(project, 10);
            if (runs.Count > 0 && runs.All(r => Terminal.Contains(r.Status)))
            {
                foreach (var r in runs.Where(r => r.Status != "succeeded"))
                    throw new InvalidOperationException($"first run {r.Id} of {project} ended {r.Status}; see {_server.LogFile}");
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the first run of {project} did not finish in 180 s");
    }

    private JsonObject Rss(string label)
    {
        var o = new JsonObject { ["label"] = label };
        var (rss, hwm) = Machine.Memory(_server.Pid);
        o["server_rss_mib"] = rss;
        o["server_hwm_mib"] = hwm;
        var line = $"  memory {label}: server VmRSS {rss:F1} MiB (peak {hwm:F1})";
        if (_agent is not null)
        {
            var (ar, ah) = Machine.Memory(_agent.Pid);
            o["agent_rss_mib"] = ar;
            o["agent_hwm_mib"] = ah;
            line += $", agent VmRSS {ar:F1} MiB (peak {ah:F1}), total {rss + ar:F1} MiB";
        }
        o["loadavg"] = Machine.LoadAvg();
        Console.WriteLine(line + $"   [loadavg {Machine.LoadAvg()}]");
        return o;
    }

    private async Task<long> StartRunAsync(string project) => (await _api.StartRunAsync(project, "main", null)).Id;

    /// <summary>Polls GET /runs/N every poll-ms until the run is finished; returns it and the ns when that was seen.</summary>
    private async Task<(RunDto Run, long SeenNs)> WaitRunAsync(long id, int pollMs, int timeoutS = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutS);
        while (true)
        {
            var run = await _api.GetRunAsync(id);
            var seen = Clock.NowNs();
            if (Terminal.Contains(run.Status)) return (run, seen);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {id} still {run.Status} after {timeoutS} s");
            await Task.Delay(pollMs);
        }
    }

    private async Task<long?> MarkerAsync(string name)
    {
        var path = Path.Combine(Markers, name);
        for (var i = 0; i < 50; i++)
        {
            if (File.Exists(path))
            {
                var text = (await File.ReadAllTextAsync(path)).Trim();
                if (long.TryParse(text, out var ns)) return ns;
            }
            await Task.Delay(10);
        }
        return null;
    }

    private async Task<JsonObject> LatencyAsync()
    {
        Console.WriteLine($"latency: {_latencyN} runs of a one-job `true` pipeline (+{_warmup} warm-up), one at a time, {_gapMs} ms apart; GET /runs/N every {_pollMs} ms");
        var rows = new JsonArray();
        var ack = new List<double>();
        var step = new List<double>();
        var jobStartSrv = new List<double>();
        var finSeen = new List<double>();
        var finSrv = new List<double>();
        var notOk = 0;
        var cpu = new CpuWindow(Pids);
        for (var i = 0; i < _warmup + _latencyN; i++)
        {
            await Task.Delay(_gapMs);
            var t0 = Clock.NowNs();
            var id = await StartRunAsync("b");
            var tAck = Clock.NowNs();
            var (run, seen) = await WaitRunAsync(id, _pollMs);
            var marker = await MarkerAsync(id.ToString());
            var job = run.Stages[0].Jobs[0];
            if (i < _warmup) continue;
            if (run.Status != "succeeded") notOk++;
            double Ms(long? ns) => ns is null ? double.NaN : Math.Round((ns.Value - t0) / 1e6, 3);
            var row = new JsonObject
            {
                ["run"] = id, ["status"] = run.Status,
                ["post_answered_ms"] = Ms(tAck),
                ["step_first_command_ms"] = Ms(marker),
                ["job_started_server_ms"] = Ms(job.StartedAt is { } s ? Clock.Ns(s) : null),
                ["run_finished_seen_ms"] = Ms(seen),
                ["run_finished_server_ms"] = Ms(run.FinishedAt is { } f ? Clock.Ns(f) : null),
            };
            rows.Add(row);
            ack.Add((double)row["post_answered_ms"]!);
            step.Add((double)row["step_first_command_ms"]!);
            jobStartSrv.Add((double)row["job_started_server_ms"]!);
            finSeen.Add((double)row["run_finished_seen_ms"]!);
            finSrv.Add((double)row["run_finished_server_ms"]!);
        }
        var o = new JsonObject
        {
            ["n"] = _latencyN, ["gap_ms"] = _gapMs, ["poll_ms"] = _pollMs, ["not_succeeded"] = notOk,
            ["post_answered_ms"] = Stats.Of(ack),
            ["step_first_command_ms"] = Stats.Of(step),
            ["job_started_server_ms"] = Stats.Of(jobStartSrv),
            ["run_finished_seen_ms"] = Stats.Of(finSeen),
            ["run_finished_server_ms"] = Stats.Of(finSrv),
            ["cpu"] = cpu.End(_latencyN + _warmup, "run"),
            ["rows"] = rows,
        };
        Console.WriteLine($"  POST answered:                    {Stats.Fmt(o["post_answered_ms"])}");
        Console.WriteLine($"  POST -> step's first command:     {Stats.Fmt(o["step_first_command_ms"])}");
        Console.WriteLine($"  POST -> job startedAt (server):   {Stats.Fmt(o["job_started_server_ms"])}");
        Console.WriteLine($"  POST -> run finished (seen):      {Stats.Fmt(o["run_finished_seen_ms"])}");
        Console.WriteLine($"  POST -> run finishedAt (server):  {Stats.Fmt(o["run_finished_server_ms"])}");
        Console.WriteLine($"  not succeeded: {notOk}; {CpuLine(o["cpu"]!)}");
        return o;
    }

    private static string CpuLine(JsonNode c)
    {
        var s = $"server CPU {c["pid0_cpu_s"]} s + children {c["pid0_children_cpu_s"]} s";
        if (c["pid1_cpu_s"] is not null) s += $", agent CPU {c["pid1_cpu_s"]} s + children {c["pid1_children_cpu_s"]} s";
        return s + $", machine busy {c["machine_busy_cores"]} cores, other processes {c["other_procs_cores"]} cores, loadavg {c["loadavg_after"]}";
    }

    private async Task<JsonObject> ThroughputAsync()
    {
        Console.WriteLine($"throughput: {_throughputN} runs POSTed back to back (one keep-alive connection), until the last finished");
        var cpu = new CpuWindow(Pids);
        var t0 = Clock.NowNs();
        var ids = new List<long>();
        for (var i = 0; i < _throughputN; i++) ids.Add(await StartRunAsync("b"));
        var tSubmitted = Clock.NowNs();
        var idSet = ids.ToHashSet();
        List<RunSummaryDto> mine;
        long seen;
        var deadline = DateTime.UtcNow.AddSeconds(600);
        while (true)
        {
            var list = await _api.ListRunsAsync("b", 500);
            seen = Clock.NowNs();
            mine = list.Where(r => idSet.Contains(r.Id)).ToList();
            if (mine.Count == ids.Count && mine.All(r => Terminal.Contains(r.Status))) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("throughput runs did not finish in 600 s");
            await Task.Delay(20);
        }
        var cpuO = cpu.End(_throughputN, "run");
        var lastFinished = mine.Max(r => Clock.Ns(r.FinishedAt!.Value));
        var totalS = (lastFinished - t0) / 1e9;
        var totalSeenS = (seen - t0) / 1e9;
        // peak concurrency from the runs' own start/finish (ms)
        var events = mine.Where(r => r.StartedAt is not null).SelectMany(r => new[] { (r.StartedAt!.Value.ToUnixTimeMilliseconds(), 1), (r.FinishedAt!.Value.ToUnixTimeMilliseconds(), -1) })
            .OrderBy(e => e.Item1).ThenBy(e => e.Item2);
        int cur = 0, peak = 0;
        foreach (var e in events) { cur += e.Item2; peak = Math.Max(peak, cur); }
        var succeeded = mine.Count(r => r.Status == "succeeded");
        var o = new JsonObject
        {
            ["n"] = _throughputN, ["succeeded"] = succeeded,
            ["submit_s"] = Math.Round((tSubmitted - t0) / 1e9, 3),
            ["total_s"] = Math.Round(totalS, 3),
            ["total_seen_s"] = Math.Round(totalSeenS, 3),
            ["runs_per_s"] = Math.Round(_throughputN / totalS, 2),
            ["peak_concurrent_runs"] = peak,
            ["cpu"] = cpuO,
        };
        Console.WriteLine($"  {succeeded}/{_throughputN} succeeded; POSTs took {o["submit_s"]} s; first POST -> last finishedAt {o["total_s"]} s " +
                          $"(seen by polling {o["total_seen_s"]} s) = {o["runs_per_s"]} runs/s; peak concurrent runs {peak}");
        Console.WriteLine($"  {CpuLine(cpuO)}; server CPU per run {cpuO["pid0_cpu_ms_per_run"]} ms (incl. its children)" +
                          (cpuO["pid1_cpu_ms_per_run"] is { } a ? $", agent {a} ms" : ""));
        return o;
    }

    private async Task<JsonObject> LogAsync()
    {
        Console.WriteLine($"log: {_logReps} runs of a job printing 50 MB (`{Program.LogCommand}`)");
        var reps = new JsonArray();
        var jobS = new List<double>();
        var cmdS = new List<double>();
        var totalS = new List<double>();
        for (var i = 0; i < _logReps; i++)
        {
            await Task.Delay(1000);
            var cpu = new CpuWindow(Pids);
            var t0 = Clock.NowNs();
            var id = await StartRunAsync("log");
            var (run, seen) = await WaitRunAsync(id, 20, 300);
            var job = run.Stages[0].Jobs[0];
            var start = await MarkerAsync(id + ".start");
            var end = await MarkerAsync(id + ".end");
            var js = (Clock.Ns(job.FinishedAt!.Value) - Clock.Ns(job.StartedAt!.Value)) / 1e9;
            var cs = start is null || end is null ? double.NaN : (end.Value - start.Value) / 1e9;
            var ts = (seen - t0) / 1e9;
            jobS.Add(js); cmdS.Add(cs); totalS.Add(ts);
            var r = new JsonObject
            {
                ["run"] = id, ["status"] = run.Status, ["log_bytes"] = job.LogBytes, ["log_truncated"] = job.LogTruncated,
                ["job_started_to_finished_s"] = Math.Round(js, 3),
                ["command_in_job_s"] = Math.Round(cs, 3),
                ["post_to_run_finished_seen_s"] = Math.Round(ts, 3),
                ["cpu"] = cpu.End(0, "run"),
            };
            reps.Add(r);
            Console.WriteLine($"  rep {i + 1}: {run.Status}, log {job.LogBytes} bytes; job startedAt->finishedAt {js:F3} s; " +
                              $"the command itself inside the job (markers) {cs:F3} s; POST -> run finished {ts:F3} s; {CpuLine(r["cpu"]!)}");
        }
        return new JsonObject
        {
            ["reps"] = reps,
            ["job_s"] = Stats.Of(jobS, 3),
            ["command_in_job_s"] = Stats.Of(cmdS, 3),
            ["post_to_finished_s"] = Stats.Of(totalS, 3),
        };
    }

    /// <summary>What one GET /runs/N costs the server (the latency phase polls it every few ms).</summary>
    private async Task<JsonObject> GetCostAsync()
    {
        var id = (await _api.ListRunsAsync("b", 1))[0].Id;
        const int n = 500;
        var cpu = new CpuWindow(Pids);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) await _api.GetRunAsync(id);
        var wall = sw.Elapsed.TotalMilliseconds / n;
        var c = cpu.End(n, "get");
        var o = new JsonObject { ["n"] = n, ["wall_ms_per_get"] = Math.Round(wall, 2), ["server_cpu_ms_per_get"] = c["pid0_cpu_ms_per_get"]?.DeepClone(), ["cpu"] = c };
        Console.WriteLine($"GET /api/v1/runs/{id}, {n} times back to back: {wall:F2} ms each, server CPU {c["pid0_cpu_ms_per_get"]} ms per GET");
        return o;
    }

    private static JsonObject LogBase()
    {
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            // .NET leaves SIGPIPE ignored in its children; restore the default (as Python's subprocess does for
            // Buildbot's harness) so `yes` ends on SIGPIPE like in a login shell.
            var psi = new ProcessStartInfo("/usr/bin/env") { UseShellExecute = false };
            psi.ArgumentList.Add("--default-signal=PIPE");
            psi.ArgumentList.Add("/bin/bash");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Program.LogCommand + " > /dev/null");
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        var o = Stats.Of(times, 4);
        Console.WriteLine($"  the same command alone with bash, stdout > /dev/null, 5 times: {Stats.Fmt(o, "s", 3)}");
        return o;
    }
}
