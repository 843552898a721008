using System.Xml.Linq;
using Slipway.Core.Gates;

namespace Slipway.Core.Tests.Gates;

public class TrendChartTests
{
    private static readonly TrendPoint[] Releases = [new("1.0.0", 200), new("1.1.0", 250.5), new("1.2.0", 180)];

    [Fact]
    public void Svg_Points_DrawAPolylineAndADotWithATitleEach()
    {
        var svg = XDocument.Parse(TrendChart.Svg(Releases, "ms"));
        XNamespace ns = "http://www.w3.org/2000/svg";

        Assert.Single(svg.Descendants(ns + "polyline"));
        Assert.Equal(["1.0.0: 200 ms", "1.1.0: 250.5 ms", "1.2.0: 180 ms"],
            svg.Descendants(ns + "circle").Select(c => c.Element(ns + "title")!.Value));
    }

    [Fact]
    public void Svg_Labels_AreEscaped()
    {
        var svg = TrendChart.Svg([new("<script>alert('x')</script>&", 1), new("2.0", 2)], "ms\"><script>");

        Assert.DoesNotContain("<script", svg);
        Assert.Contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;&amp;", svg);
        XDocument.Parse(svg); // still well-formed
    }

    [Fact]
    public void Svg_Threshold_DrawsADashedLine()
    {
        var svg = XDocument.Parse(TrendChart.Svg(Releases, "ms", threshold: 300));
        XNamespace ns = "http://www.w3.org/2000/svg";

        var line = Assert.Single(svg.Descendants(ns + "line"), l => (string?)l.Attribute("class") == "threshold");
        Assert.NotNull(line.Attribute("stroke-dasharray"));
        Assert.Equal("threshold: 300 ms", line.Element(ns + "title")!.Value);
    }

    [Fact]
    public void Svg_Threshold_IsWrittenOnTheChart_AndPointsBreakingTheRuleAreMarked()
    {
        // p95 < 220 ms: 250.5 breaks it, 200 and 180 keep it.
        var svg = XDocument.Parse(TrendChart.Svg(Releases, "ms", threshold: 220, op: Comparison.Less));
        XNamespace ns = "http://www.w3.org/2000/svg";

        Assert.Equal("limit 220 ms", svg.Descendants(ns + "text").Single(t => (string?)t.Attribute("class") == "threshold-label").Value);
        Assert.Equal([false, true, false], svg.Descendants(ns + "circle").Select(c => ((string?)c.Attribute("class") ?? "").Contains("breaks")));
        Assert.Equal("1.1.0: 250.5 ms (breaks the limit)", svg.Descendants(ns + "circle").ElementAt(1).Element(ns + "title")!.Value);
        // The other way round (requests > 190): only 180 breaks it.
        var more = XDocument.Parse(TrendChart.Svg(Releases, "", threshold: 190, op: Comparison.Greater));
        Assert.Equal([false, false, true], more.Descendants(ns + "circle").Select(c => ((string?)c.Attribute("class") ?? "").Contains("breaks")));
    }

    [Fact]
    public void Svg_NamesTheFirstAndLastRelease_MarksTheCurrentOne_AndSaysItAllInItsAccessibleName()
    {
        var svg = XDocument.Parse(TrendChart.Svg(Releases, "ms", threshold: 300, op: Comparison.Less, current: "1.1.0"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var root = svg.Root!;

        Assert.Equal("1.0.0", svg.Descendants(ns + "text").Single(t => (string?)t.Attribute("class") == "first-release").Value);
        Assert.Equal("1.2.0", svg.Descendants(ns + "text").Single(t => (string?)t.Attribute("class") == "last-release").Value);
        var current = Assert.Single(svg.Descendants(ns + "circle"), c => (string?)c.Attribute("class") == "current");
        Assert.Equal("1.1.0: 250.5 ms", current.Element(ns + "title")!.Value);
        Assert.Equal("img", (string?)root.Attribute("role"));
        Assert.Equal("3 releases, oldest first: 1.0.0 200 ms, 1.1.0 250.5 ms, 1.2.0 180 ms; limit < 300 ms", (string?)root.Attribute("aria-label"));
    }

    [Fact]
    public void Svg_LongValueLabels_GetRoomOnTheLeft_NotCutOff()
    {
        var svg = XDocument.Parse(TrendChart.Svg([new("0.1.3", 9.224), new("0.1.4", 10.005)], "ms", threshold: 1, op: Comparison.Less));
        XNamespace ns = "http://www.w3.org/2000/svg";

        // The longest label, "10.005 ms" (9 characters at 9 px), ends 4 px before the plot; it needs about 50 px.
        var labels = svg.Descendants(ns + "text").Where(t => (string?)t.Attribute("text-anchor") == "end" && t.Value.EndsWith(" ms") && !t.Value.StartsWith("limit")).ToList();
        Assert.Contains(labels, t => t.Value == "10.005 ms");
        Assert.All(labels, t => Assert.True(double.Parse((string)t.Attribute("x")!, System.Globalization.CultureInfo.InvariantCulture) >= 50, t.ToString()));
        Assert.True(double.Parse((string)svg.Descendants(ns + "circle").First().Attribute("cx")!, System.Globalization.CultureInfo.InvariantCulture) >= 54);
    }

    [Fact]
    public void Svg_AHugeValue_NeverTakesMoreThanHalfTheWidthForItsLabel()
    {
        var svg = XDocument.Parse(TrendChart.Svg([new("a", 1e300), new("b", 1)], "ms", width: 320));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.True(double.Parse((string)svg.Descendants(ns + "circle").First().Attribute("cx")!, System.Globalization.CultureInfo.InvariantCulture) <= 160);
    }

    [Fact]
    public void Svg_NoThreshold_DrawsNoLine()
    {
        Assert.DoesNotContain("<line", TrendChart.Svg(Releases, "ms"));
    }

    [Fact]
    public void Svg_MinAndMax_AreLabelled()
    {
        var svg = TrendChart.Svg(Releases, "ms");

        Assert.Contains(">250.5 ms</text>", svg);
        Assert.Contains(">180 ms</text>", svg);
    }

    [Fact]
    public void Svg_Empty_SaysNoData()
    {
        var svg = TrendChart.Svg([], "ms");

        Assert.Contains(">no data</text>", svg);
        Assert.DoesNotContain("<circle", svg);
        XDocument.Parse(svg);
    }

    [Fact]
    public void Svg_OnePoint_IsADotWithoutALine()
    {
        var svg = TrendChart.Svg([new("1.0.0", 42)], "/s");

        Assert.Single(XDocument.Parse(svg).Descendants(), e => e.Name.LocalName == "circle");
        Assert.DoesNotContain("<polyline", svg);
        Assert.Contains("1.0.0: 42/s", svg);
    }

    [Fact]
    public void Svg_NonFiniteValues_AreSkipped()
    {
        var svg = TrendChart.Svg([new("a", double.NaN), new("b", double.PositiveInfinity)], "ms");

        Assert.Contains("no data", svg);
    }

    [Fact]
    public void Svg_HasNoScriptNorExternalReference()
    {
        var svg = TrendChart.Svg(Releases, "ms", 300);

        Assert.DoesNotContain("href", svg);
        Assert.DoesNotContain("<script", svg);
        Assert.DoesNotContain("url(", svg);
        Assert.DoesNotContain("NaN", svg);
    }
}
