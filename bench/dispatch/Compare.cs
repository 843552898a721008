using System.Globalization;
using System.Text.Json.Nodes;

namespace Slipway.Bench.Dispatch;

/// <summary>
/// The final table: Slipway's figures (this bench's JSON) next to Buildbot's (the harness's results.jsonl of the
/// same session, or — if that run failed — the figures documented in its README, labelled as such).
/// </summary>
public static class Compare
{
    private sealed record Peer(string Source, double? StepMed, double? StepP95, double? FinMed, double? FinP95,
        double? Tput2, double? Tput1, double? LogStep, double? LogBase, double? RssIdle, double? RssEnd, double? WorkerIdle, double? WorkerEnd,
        string Load);

    // Buildbot README, main table (run 20261126-055152, foreign load 0.08-1.72 cores).
    private static readonly Peer Readme = new("from README (run 20261126-055152), not this run",
        202.3, null, 292.3, null, 3.72, 2.27, 8.73, 0.015, 86.6, 140.2, 41.8, 82.2, "0.5-1.7 foreign cores (README)");

    public static void Print(string slipwayFile, string peerFile, string note)
    {
        var s = JsonNode.Parse(File.ReadAllText(slipwayFile))!;
        Peer peer;
        try { peer = peerFile.Length > 0 && File.Exists(peerFile) ? FromJsonl(peerFile) : Readme; }
        catch (Exception e)
        {
            Console.WriteLine($"(could not read the Buildbot results {peerFile}: {e.Message}; using the README figures)");
            peer = Readme;
        }
        var variants = new[] { "embedded", "separate" }.Where(v => s[v] is JsonObject o && o["error"] is null).ToArray();
        Console.WriteLine();
        Console.WriteLine("## Slipway vs Buildbot 3.7, dispatch (2 cores, 127.0.0.1)");
        Console.WriteLine();
        Console.WriteLine($"Buildbot figures: {peer.Source}{(note.Length > 0 ? "; " + note : "")}.");
        Console.WriteLine("Ratio = Slipway / Buildbot (latency, memory, time: < 1 is better for Slipway; runs/s: > 1 is better).");
        Console.WriteLine();
        var header = "| metric | target | " + string.Join(" | ", variants.Select(v => $"Slipway {v}")) + " | Buildbot | " +
                     string.Join(" | ", variants.Select(v => $"ratio {v}")) + " |";
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat(" --- |", 3 + 2 * variants.Length)));

        void Row(string metric, string target, Func<JsonNode, double?> get, double? bb, string fmt = "F1")
        {
            var vals = variants.Select(v => get(s[v]!)).ToArray();
            Console.WriteLine($"| {metric} | {target} | " + string.Join(" | ", vals.Select(x => F(x, fmt))) + $" | {F(bb, fmt)} | " +
                              string.Join(" | ", vals.Select(x => x is null || bb is null or 0 ? "-" : (x.Value / bb.Value).ToString("F3", CultureInfo.InvariantCulture))) + " |");
        }

        Row("POST -> step's first command, median (ms) [Buildbot: step started event]", "<= 50", v => D(v, "latency", "step_first_command_ms", "median"), peer.StepMed);
        Row("POST -> step's first command, p95 (ms)", "", v => D(v, "latency", "step_first_command_ms", "p95"), peer.StepP95);
        Row("POST -> run finished, median (ms) [Slipway: seen by 5 ms polling]", "", v => D(v, "latency", "run_finished_seen_ms", "median"), peer.FinMed);
        Row("POST -> run finished, p95 (ms)", "", v => D(v, "latency", "run_finished_seen_ms", "p95"), peer.FinP95);
        Row("throughput, 2 slots / max_builds=2 (runs/s) [Slipway 200 runs, Buildbot 100 builds, median of reps]", ">= 30",
            v => D(v, "throughput", "runs_per_s"), peer.Tput2, "F2");
        Row("(Buildbot max_builds=1, builds/s, for reference)", "", _ => null, peer.Tput1, "F2");
        Row("50 MB log: job/step duration, median of 3 (s)", "<= 2", v => D(v, "log", "job_s", "median"), peer.LogStep, "F2");
        Row("same command alone > /dev/null, median of 5 (s)", "", v => D(v, "logbase", "median"), peer.LogBase, "F3");
        Row("50 MB log: job / command-alone (x)", "", v => D(v, "log", "job_s", "median") / D(v, "logbase", "median"),
            peer.LogStep / peer.LogBase, "F0");
        Row("server/master VmRSS idle (MiB)", "<= 120", v => D(v, "rss_idle", "server_rss_mib"), peer.RssIdle);
        Row("server+agent / master+worker VmRSS idle (MiB)", "", v => D(v, "rss_idle", "server_rss_mib") + (D(v, "rss_idle", "agent_rss_mib") ?? 0),
            peer.RssIdle + peer.WorkerIdle);
        Row("server/master VmRSS after all (MiB)", "", v => D(v, "rss_end", "server_rss_mib"), peer.RssEnd);
        Row("server+agent / master+worker VmRSS after all (MiB)", "", v => D(v, "rss_end", "server_rss_mib") + (D(v, "rss_end", "agent_rss_mib") ?? 0),
            peer.RssEnd + peer.WorkerEnd);
        Console.WriteLine();
        foreach (var v in variants)
        {
            Console.WriteLine($"Slipway {v}: load during latency: other processes {s[v]!["latency"]?["cpu"]?["other_procs_cores"]} cores, " +
                              $"throughput: {s[v]!["throughput"]?["cpu"]?["other_procs_cores"]} cores (loadavg {s[v]!["throughput"]?["cpu"]?["loadavg_after"]})");
        }
        Console.WriteLine($"Buildbot: {peer.Load}");
    }

    private static double? D(JsonNode v, params string[] path)
    {
        JsonNode? n = v;
        foreach (var p in path) n = n?[p];
        return n is JsonValue jv && jv.TryGetValue<double>(out var d) ? d : null;
    }

    private static string F(double? x, string fmt) => x is null || double.IsNaN(x.Value) ? "-" : x.Value.ToString(fmt, CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> xs) => Stats.Percentile(xs.ToList(), 0.5);

    private static Peer FromJsonl(string path)
    {
        var rows = File.ReadLines(path).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!).ToList();
        IEnumerable<JsonNode> Sel(string test, string? phase = null, string? label = null) => rows.Where(r =>
            (string?)r["test"] == test && (phase is null || (string?)r["phase"] == phase) && (label is null || (string?)r["label"] == label));
        var lat = Sel("latency").FirstOrDefault();
        List<double> Col(string k) => lat is null ? [] : lat["rows"]!.AsArray().Select(r => r![k]).Where(x => x is not null).Select(x => (double)x!).ToList();
        double? P(List<double> xs, double p) => xs.Count == 0 ? null : Math.Round(Stats.Percentile(xs, p), 1);
        var step = Col("step_started_ms");
        var fin = Col("build_finished_ms");
        var mb2 = Sel("throughput", "mb2").Select(r => (double)r["builds_per_s"]!).ToList();
        var mb1 = Sel("throughput", "mb1").Select(r => (double)r["builds_per_s"]!).ToList();
        var logs = Sel("log").Select(r => (double)r["step_s"]!).ToList();
        var lb = Sel("logbase").FirstOrDefault()?["seconds"]?["median"];
        double? Rss(string phase, string label) => Sel("rss", phase, label).Select(r => (double?)r["VmRSS"]).FirstOrDefault();
        var masterRss = Sel("rss", "mb2").Where(r => !((string)r["label"]!).StartsWith("worker")).ToList();
        var load = string.Join("; ", rows.Where(r => r["other_procs_cores"] is not null && (string?)r["test"] != "waitquiet")
            .Select(r => $"{r["phase"]} {r["test"]} {r["other_procs_cores"]}"));
        return new Peer($"this session's Buildbot run {Path.GetFileName(Path.GetDirectoryName(path))}",
            P(step, 0.5), P(step, 0.95), P(fin, 0.5), P(fin, 0.95),
            mb2.Count > 0 ? Math.Round(Median(mb2), 2) : null, mb1.Count > 0 ? Math.Round(Median(mb1), 2) : null,
            logs.Count > 0 ? Math.Round(Median(logs), 3) : null, lb is null ? null : (double)lb,
            Rss("mb2", "idle") ?? Rss("mb1", "idle"), masterRss.Count > 0 ? (double?)masterRss[^1]["VmRSS"] : null,
            Rss("mb1", "worker-idle"), Rss("mb2", "worker-end"),
            "foreign (other) cores per measurement: " + load);
    }
}
