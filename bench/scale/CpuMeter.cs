namespace Slipway.Bench.Scale;

/// <summary>
/// CPU seconds spent during one measurement by the server nodes, by this PostgreSQL (the postmaster and its backends,
/// found as its children) and by the bench itself (its 100 agents), against what the whole machine spent: on 2 cores
/// it says whether the figures were limited by CPU, and whose. Read from /proc; Linux clock ticks are 1/100 s.
/// </summary>
public sealed class CpuMeter
{
    private readonly IReadOnlyList<int> _nodes;
    private readonly int _postmaster;
    private readonly (double[] Nodes, double Postgres, double Bench, double Machine, double Steal) _start;
    private readonly DateTime _startedAt = DateTime.UtcNow;

    public CpuMeter(IReadOnlyList<int> nodePids, int postmasterPid)
    {
        _nodes = nodePids;
        _postmaster = postmasterPid;
        _start = Read();
    }

    public string Stop()
    {
        var end = Read();
        var wall = (DateTime.UtcNow - _startedAt).TotalSeconds;
        // Each node apart: a node that spends more than the others for the same share of the work is still compiling or
        // collecting. Steal is time the hypervisor gave to another tenant: a noisy neighbour, not ours to fix.
        var nodes = end.Nodes.Select((n, i) => n - _start.Nodes[i]).ToList();
        var each = nodes.Count > 1 ? $" ({string.Join(" + ", nodes.Select(n => n.ToString("F1")))})" : "";
        return $"CPU over {wall:F1} s: nodes {nodes.Sum():F1} s{each}, PostgreSQL {end.Postgres - _start.Postgres:F1} s, " +
               $"bench and agents {end.Bench - _start.Bench:F1} s, whole machine {end.Machine - _start.Machine:F1} s of {wall * Environment.ProcessorCount:F1} s" +
               $" (stolen {end.Steal - _start.Steal:F1} s)";
    }

    private (double[] Nodes, double Postgres, double Bench, double Machine, double Steal) Read()
    {
        var machine = MachineTicks();
        return (_nodes.Select(p => Process(p, children: false)).ToArray(), Postgres(), Process(Environment.ProcessId, children: false),
            (machine[0] + machine[1] + machine[2] + machine[5] + machine[6] + machine[7]) / 100.0, machine[7] / 100.0); // user nice system irq softirq steal
    }

    private double Postgres()
    {
        var total = Process(_postmaster, children: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Parent(pid) == _postmaster) total += Process(pid, children: false);
        return total;
    }

    /// <summary>Fields after the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).</summary>
    private static string[]? Fields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; }
    }

    private static int Parent(int pid) => Fields(pid) is { } f ? int.Parse(f[1]) : -1;

    private static double Process(int pid, bool children)
    {
        if (Fields(pid) is not { } f) return 0;
        var ticks = long.Parse(f[11]) + long.Parse(f[12]) + (children ? long.Parse(f[13]) + long.Parse(f[14]) : 0);
        return ticks / 100.0;
    }

    /// <summary>The machine's line of /proc/stat: user nice system idle iowait irq softirq steal ...</summary>
    private static long[] MachineTicks() =>
        File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();

    /// <summary>The postmaster of the cluster whose log file is given (PostgresServer keeps data/ beside it).</summary>
    public static int PostmasterOf(string logFile) =>
        int.Parse(File.ReadLines(Path.Combine(Path.GetDirectoryName(logFile)!, "data", "postmaster.pid")).First());
}
