using System.Globalization;

namespace Slipway.Bench.Scale;

/// <summary>p50, p95 and max of a set of milliseconds (percentiles interpolated between ranks, numpy's default).</summary>
public sealed record Summary(int Count, double P50, double P95, double Max)
{
    public static Summary Of(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return new Summary(sorted.Length, At(sorted, 0.50), At(sorted, 0.95), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }

    private static double At(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var position = (sorted.Length - 1) * p;
        var low = (int)Math.Floor(position);
        var high = (int)Math.Ceiling(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p50 {P50:F1} ms, p95 {P95:F1} ms, max {Max:F1} ms (n={Count})");
}

/// <summary>The machine's load average: the figures mean little if other work shares the 2 cores.</summary>
public static class Load
{
    public static string Average() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
