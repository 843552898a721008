namespace Slipway.Core.Gates;

/// <summary>A person's verdict on a release on an environment (UAT showcase, customer acceptance, exploratory session).</summary>
public sealed record SignOff(long Id, string Kind, string Environment, bool Accepted, string By, IReadOnlySet<string> ByRoles, DateTimeOffset At, string Notes);

/// <summary>
/// What is known about one release when a deployment of it to an environment is asked for: where its verify step passed,
/// what it measured where, the baseline (the release current on the gated environment) and its sign-offs.
/// </summary>
public sealed record GateEvidence(
    IReadOnlySet<string> VerifiedOn,
    IReadOnlyDictionary<string, IReadOnlyList<MetricValue>> MeasuredOn,
    string? BaselineVersion,
    IReadOnlyDictionary<string, IReadOnlyList<MetricValue>> BaselineMeasuredOn,
    IReadOnlyList<SignOff> SignOffs);

/// <summary>
/// An environment's gates judged for a release, with the sign-off rejection standing against the release (which blocks
/// it everywhere, whatever the gates say).
/// </summary>
public sealed record GateJudgement(IReadOnlyList<GateResult> Results, string? Rejection)
{
    public GateOutcome Overall => Rejection is not null ? GateOutcome.Failed : GateChecklist.Overall(Results);

    /// <summary>The failed gates, described, for a refusal.</summary>
    public IReadOnlyList<string> Unmet => Results.Where(r => r.Outcome == GateOutcome.Failed).Select(r => r.Describe()).ToList();

    /// <summary>The inconclusive gates, described, for a hold.</summary>
    public IReadOnlyList<string> Open => Results.Where(r => r.Outcome == GateOutcome.Inconclusive).Select(r => r.Describe()).ToList();
}

/// <summary>One gate judged: its outcome and why, with the measured and baseline values when it is a metric gate.</summary>
public sealed record GateResult(GateDefinition Gate, GateOutcome Outcome, string Detail, double? Measured = null, double? Baseline = null)
{
    public string Describe() => $"{Mark(Outcome)} {Gate.Describe()}: {Detail}";

    public static string Mark(GateOutcome outcome) => outcome switch { GateOutcome.Passed => "✔", GateOutcome.Failed => "✘", _ => "?" };

    /// <summary>The mark of an outcome's wire name (passed, failed, inconclusive), for pages and the CLI.</summary>
    public static string Mark(string outcome) => outcome switch { "passed" => "✔", "failed" => "✘", _ => "?" };

    public static string OutcomeName(GateOutcome outcome) => outcome.ToString().ToLowerInvariant();
}
