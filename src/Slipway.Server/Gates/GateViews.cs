using Slipway.Contracts.Api;
using Slipway.Core.Gates;

namespace Slipway.Server.Gates;

/// <summary>One environment's gates judged for a release, each metric gate with its trend across recent releases.</summary>
/// <param name="CurrentThere">The release is the environment's current one already (the heading then says so).</param>
public sealed record EnvironmentGatesView(string Environment, string Overall, IReadOnlyList<(GateResultDto Result, string? TrendSvg)> Results,
    bool CurrentThere = false);

/// <summary>What the release page shows about quality: the checklists, what was measured where, and the sign-offs.</summary>
public sealed record ReleaseGatesView(IReadOnlyList<EnvironmentGatesView> Checklists, IReadOnlyList<(string Where, IReadOnlyList<MetricValue> Values)> Measured,
    IReadOnlyList<SignOffDto> SignOffs, IReadOnlyList<string> Environments, string? Rejection = null);

/// <summary>Read models of quality gates for the pages (release, deployment, dashboard); no rules of their own.</summary>
public sealed class GateViews(ProjectStore projects, ReleaseStore releases, GateStore gates, GateService service, DeploymentStore deployments)
{
    public async Task<ReleaseGatesView> ForReleaseAsync(string name, string version)
    {
        var project = await projects.RequireAsync(name);
        var release = await releases.FindAsync(project.Id, version) ?? throw new KeyNotFoundException($"project '{name}' has no release {version}");
        var judged = await service.JudgeEverywhereAsync(project, release);
        var all = judged.Select(j => j.Environment).ToList();
        var checklists = new List<EnvironmentGatesView>();
        // Where the release is current already, for every environment in one query (the headings say so).
        var currentHere = (await deployments.CurrentAsync(project.Id)).Where(d => d.ReleaseId == release.Id).Select(d => d.EnvironmentId).ToHashSet();
        foreach (var (environment, judgement) in judged.Where(j => j.Judgement.Results.Count > 0))
        {
            var rows = new List<(GateResultDto, string?)>();
            foreach (var r in judgement.Results) rows.Add((GateService.ToDto(r), await TrendAsync(all, r.Gate, release.Version)));
            checklists.Add(new EnvironmentGatesView(environment.Name, GateResult.OutcomeName(judgement.Overall), rows, currentHere.Contains(environment.Id)));
        }
        var measured = (await gates.MeasuredAsync(release.Id)).OrderBy(m => m.Key == GateDefinition.Ci ? "" : m.Key)
            .Select(m => (m.Key, m.Value)).ToList();
        return new ReleaseGatesView(checklists, measured, await service.SignOffsAsync(name, version), all.Select(e => e.Name).ToList(),
            judged.FirstOrDefault().Judgement?.Rejection);
    }

    /// <summary>
    /// The metrics the pages list: the canonical ones and the tool's top-level ones. A k6 or Artillery file can carry
    /// dozens of dotted sub-metrics (http.codes.200, ...), which the API lists in full.
    /// </summary>
    public static bool ShownOnPages(string metric) => metric is "http_req_duration" or "requests" or "errors" || !metric.Contains('.');

    /// <summary>The metric across recent releases where the gate measures it, <paramref name="current"/> (the release shown) marked.</summary>
    private async Task<string?> TrendAsync(IReadOnlyList<EnvironmentRow> all, GateDefinition gate, string current)
    {
        if (gate is not { Kind: GateKind.Metric, Rule: { } rule, MeasuredOn: { } on } || all.FirstOrDefault(e => e.Name == on) is not { } source) return null;
        // Plotted in the rule's unit (a value reported in s against a threshold in ms would draw nonsense).
        var points = new List<TrendPoint>();
        foreach (var (version, value, unit) in await gates.TrendAsync(source.Id, rule.Metric, rule.Stat))
            if (MetricRuleJudge.TryConvert(value, unit, rule.Unit ?? unit, out var converted)) points.Add(new TrendPoint(version, converted));
        // A relative rule's limit moves with each baseline: no line is drawn for it, and no point is marked against it.
        return points.Count == 0 ? null
            : TrendChart.Svg(points, rule.Unit ?? "", rule.Relative ? null : rule.Threshold, op: rule.Relative ? null : rule.Op, current: current);
    }
}
