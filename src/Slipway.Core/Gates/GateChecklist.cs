namespace Slipway.Core.Gates;

/// <summary>
/// Judges an environment's gates for one release. Pure: the server gathers the <see cref="GateEvidence"/>, this decides.
/// A deployment is refused while any gate failed; held for a person's decision while any is inconclusive (and none failed).
/// </summary>
public static class GateChecklist
{
    public static IReadOnlyList<GateResult> Evaluate(IReadOnlyList<GateDefinition> gates, GateEvidence evidence, long minimumSamples = MetricRuleJudge.DefaultMinimumSamples) =>
        gates.Select(g => Judge(g, evidence, minimumSamples)).ToList();

    /// <summary>The worst outcome: failed over inconclusive over passed (no gates: passed).</summary>
    public static GateOutcome Overall(IReadOnlyList<GateResult> results) =>
        results.Any(r => r.Outcome == GateOutcome.Failed) ? GateOutcome.Failed
        : results.Any(r => r.Outcome == GateOutcome.Inconclusive) ? GateOutcome.Inconclusive
        : GateOutcome.Passed;

    private static GateResult Judge(GateDefinition gate, GateEvidence evidence, long minimumSamples)
    {
        switch (gate.Kind)
        {
            case GateKind.Verify:
                return evidence.VerifiedOn.Contains(gate.MeasuredOn!)
                    ? new(gate, GateOutcome.Passed, $"a deployment to {gate.MeasuredOn} passed its verify step")
                    : new(gate, GateOutcome.Failed, $"no deployment of this release to {gate.MeasuredOn} has passed its verify step");
            case GateKind.Metric:
                if (!evidence.MeasuredOn.TryGetValue(gate.MeasuredOn!, out var measured) || measured.Count == 0)
                    return new(gate, GateOutcome.Failed, gate.MeasuredOn == GateDefinition.Ci
                        ? "the release's run reported no metrics"
                        : $"no metrics reported for this release on {gate.MeasuredOn}");
                // Several jobs of the measuring run may report the same metric: with different values there is no telling
                // which the gate means, and judging the first would let any job shadow the real measurement.
                var reported = measured.Where(v => v.Metric == gate.Rule!.Metric && v.Stat == gate.Rule.Stat).Select(v => v.Value).Distinct().ToList();
                if (reported.Count > 1)
                    return new(gate, GateOutcome.Inconclusive, $"{gate.Rule!.Metric} {gate.Rule.Stat} was reported {reported.Count} times with different values " +
                        $"({string.Join(", ", reported.Take(5).Select(MetricNumber.Compact))}) on {gate.MeasuredOn}: the gate cannot tell which to judge");
                var baseline = gate.Rule!.Relative ? evidence.BaselineMeasuredOn.GetValueOrDefault(gate.MeasuredOn!) : null;
                var judged = MetricRuleJudge.Judge(gate.Rule, measured, baseline, minimumSamples);
                var detail = gate.Rule.Relative && evidence.BaselineVersion is { } version ? $"{judged.Detail} (baseline: {version})"
                    : gate.Rule.Relative ? $"{judged.Detail} (no release is current on the gated environment to compare with)" : judged.Detail;
                return new(gate, judged.Outcome, detail, judged.Measured, judged.Baseline);
            default:
                var latest = evidence.SignOffs
                    .Where(s => s.Kind == gate.SignOffKind && (gate.MeasuredOn is null || s.Environment == gate.MeasuredOn) && s.ByRoles.Contains(gate.Role!))
                    .OrderByDescending(s => s.At).ThenByDescending(s => s.Id).FirstOrDefault();
                return latest switch
                {
                    null => new(gate, GateOutcome.Failed, $"pending: no {gate.SignOffKind} sign-off by a holder of the role {gate.Role} yet"),
                    { Accepted: true } => new(gate, GateOutcome.Passed, $"accepted by {latest.By} on {latest.Environment}"),
                    _ => new(gate, GateOutcome.Failed, $"rejected by {latest.By} on {latest.Environment}: {latest.Notes}"),
                };
        }
    }
}
