namespace Slipway.Core.Gates;

/// <summary>What a gate asks for: a passed verify step, a metric threshold, or a person's sign-off.</summary>
public enum GateKind { Verify, Metric, SignOff }

/// <summary>
/// One gate an environment requires before a release may be deployed there. Gates are server-side configuration (like
/// approvals), so a branch's pipeline file cannot weaken them; the pipeline file only says how metrics are measured.
/// <list type="bullet">
/// <item><see cref="GateKind.Verify"/>: a deployment of the release to <see cref="MeasuredOn"/> succeeded with its verify step.</item>
/// <item><see cref="GateKind.Metric"/>: <see cref="Rule"/> holds for the metrics the release reported on <see cref="MeasuredOn"/>
/// (<c>ci</c>: the release's own run). A relative rule compares with the release current on the gated environment, measured on
/// <see cref="MeasuredOn"/> too.</item>
/// <item><see cref="GateKind.SignOff"/>: the latest sign-off of kind <see cref="SignOffKind"/> for the release (on
/// <see cref="MeasuredOn"/>, when given) by someone holding <see cref="Role"/> accepts it.</item>
/// </list>
/// </summary>
public sealed record GateDefinition(long Id, GateKind Kind, string? MeasuredOn, MetricRule? Rule, string? SignOffKind, string? Role)
{
    /// <summary>The source of metrics measured by the release's own CI run rather than on an environment.</summary>
    public const string Ci = "ci";

    public static readonly IReadOnlyList<string> SignOffKinds = ["uat", "acceptance", "exploratory"];

    public string Describe() => Kind switch
    {
        GateKind.Verify => $"verify passed on {MeasuredOn}",
        GateKind.Metric => $"{Rule!.Text} on {MeasuredOn}",
        _ => $"{SignOffKind} sign-off by {Role}" + (MeasuredOn is { } on ? $" on {on}" : ""),
    };

    /// <summary>
    /// Whether <paramref name="other"/> asks for the same thing: the same kind, place and sign-off, and for a metric the same
    /// rule however it is written (<c>p95 &lt; 300 ms</c> and <c>p95 &lt; 0.3 s</c> are one gate). Ids are not compared.
    /// </summary>
    public bool SameAs(GateDefinition other) =>
        Kind == other.Kind && MeasuredOn == other.MeasuredOn && SignOffKind == other.SignOffKind && Role == other.Role
        && (Rule, other.Rule) switch { (null, null) => true, ({ } mine, { } theirs) => mine.SameAs(theirs), _ => false };

    /// <summary>Checks a gate before it is saved; null when it is well-formed. Environment names are checked by the caller.</summary>
    public string? Check()
    {
        switch (Kind)
        {
            case GateKind.Verify when string.IsNullOrWhiteSpace(MeasuredOn) || MeasuredOn == Ci:
                return "a verify gate names the environment whose verify step must have passed (e.g. staging)";
            case GateKind.Metric when Rule is null:
                return "a metric gate needs a rule, e.g. 'http_req_duration p95 < 300 ms'";
            case GateKind.Metric when string.IsNullOrWhiteSpace(MeasuredOn):
                return "a metric gate names where the metric is measured: an environment (e.g. staging) or 'ci'";
            case GateKind.SignOff when SignOffKind is null || !IsSignOffKind(SignOffKind):
                return $"a sign-off gate needs a kind: {string.Join(", ", SignOffKinds)} (or another lower-case word)";
            case GateKind.SignOff when string.IsNullOrWhiteSpace(Role):
                return "a sign-off gate names the role whose holder must sign (e.g. analyst)";
            case GateKind.SignOff when MeasuredOn == Ci:
                return "a sign-off is given on an environment, not on CI";
        }
        return null;
    }

    /// <summary>A sign-off kind: one of <see cref="SignOffKinds"/> or a custom lower-case word (letters, digits, '-').</summary>
    public static bool IsSignOffKind(string kind) =>
        kind.Length is > 0 and <= 40 && char.IsAsciiLetterLower(kind[0]) && kind.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    public static string KindName(GateKind kind) => kind switch { GateKind.Verify => "verify", GateKind.Metric => "metric", _ => "signoff" };

    public static GateKind ParseKind(string? name) => name switch
    {
        "verify" => GateKind.Verify,
        "metric" => GateKind.Metric,
        "signoff" or "sign-off" => GateKind.SignOff,
        _ => throw new FormatException($"'{name}' is not a gate kind: verify, metric or signoff"),
    };
}
