using System.Globalization;
using System.Text;

namespace Slipway.Core.Gates;

public sealed record TrendPoint(string Label, double Value);

/// <summary>
/// Builds a small inline SVG sparkline of a metric across releases, for the server to embed as is.
/// Labels are user data (release versions), so every text is XML-escaped; the SVG holds no script,
/// no links and no external references, and draws in <c>currentColor</c> to follow the page's theme.
/// </summary>
public static class TrendChart
{
    private const double Left = 44, Right = 6, Top = 6, Bottom = 6;

    public static string Svg(IReadOnlyList<TrendPoint> points, string unit, double? threshold = null, int width = 320, int height = 80)
    {
        width = Math.Clamp(width, 80, 4000);
        height = Math.Clamp(height, 30, 2000);
        var finite = points.Where(p => double.IsFinite(p.Value)).ToList();
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" class=\"trend\">");
        if (finite.Count == 0)
        {
            svg.Append($"<text x=\"{N(width / 2.0)}\" y=\"{N(height / 2.0)}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"11\" fill=\"currentColor\">no data</text></svg>");
            return svg.ToString();
        }

        var (lo, hi) = Range(finite, threshold is { } t && double.IsFinite(t) ? t : null);
        double X(int i) => finite.Count == 1 ? (Left + width - Right) / 2 : Left + i * (width - Left - Right) / (finite.Count - 1);
        double Y(double v) => Top + (hi - v) / (hi - lo) * (height - Top - Bottom);

        svg.Append($"<text x=\"{N(Left - 4)}\" y=\"{N(Top + 8)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\">{Escape(Label(hi, unit))}</text>");
        svg.Append($"<text x=\"{N(Left - 4)}\" y=\"{N(height - Bottom)}\" text-anchor=\"end\" font-size=\"9\" fill=\"currentColor\">{Escape(Label(lo, unit))}</text>");
        if (threshold is { } limit && double.IsFinite(limit))
        {
            svg.Append($"<line class=\"threshold\" x1=\"{N(Left)}\" y1=\"{N(Y(limit))}\" x2=\"{N(width - Right)}\" y2=\"{N(Y(limit))}\" stroke=\"currentColor\" stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\">");
            svg.Append($"<title>threshold: {Escape(Label(limit, unit))}</title></line>");
        }
        if (finite.Count > 1)
        {
            var coords = string.Join(" ", finite.Select((p, i) => $"{N(X(i))},{N(Y(p.Value))}"));
            svg.Append($"<polyline points=\"{coords}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>");
        }
        for (var i = 0; i < finite.Count; i++)
        {
            svg.Append($"<circle cx=\"{N(X(i))}\" cy=\"{N(Y(finite[i].Value))}\" r=\"2.5\" fill=\"currentColor\">");
            svg.Append($"<title>{Escape(finite[i].Label)}: {Escape(Label(finite[i].Value, unit))}</title></circle>");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>The value range to draw, including the threshold, widened when flat so a constant series sits mid-height.</summary>
    private static (double Lo, double Hi) Range(List<TrendPoint> points, double? threshold)
    {
        var lo = points.Min(p => p.Value);
        var hi = points.Max(p => p.Value);
        if (threshold is { } t) (lo, hi) = (Math.Min(lo, t), Math.Max(hi, t));
        if (hi - lo < 1e-9)
        {
            var pad = Math.Abs(hi) > 0 ? Math.Abs(hi) * 0.1 : 1;
            (lo, hi) = (lo - pad, hi + pad);
        }
        return (lo, hi);
    }

    private static string Label(double value, string unit) =>
        MetricNumber.WithUnit(value, string.IsNullOrWhiteSpace(unit) ? null : unit);

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                // Control characters are not allowed in XML 1.0; drop them rather than emit an invalid document.
                case < ' ' and not ('\t' or '\n' or '\r'): break;
                default: sb.Append(ch); break;
            }
        }
        return sb.ToString();
    }
}
