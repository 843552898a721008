using System.Text.RegularExpressions;

namespace Slipway.Core.Deployments.Rollout;

/// <summary>
/// The values every rollout step gets (in its environment on the target; expanded in a health check's URL and an
/// upload's destination): which target, which batch, which release. Never pasted into shell text.
/// </summary>
public static partial class RolloutVariables
{
    public const string Target = "SLIPWAY_TARGET";
    public const string TargetHost = "SLIPWAY_TARGET_HOST";
    public const string Batch = "SLIPWAY_BATCH";
    public const string Release = "SLIPWAY_RELEASE";
    public const string PreviousRelease = "SLIPWAY_PREVIOUS_RELEASE";
    public const string Environment = "SLIPWAY_ENVIRONMENT";
    public const string Deployment = "SLIPWAY_DEPLOYMENT";

    /// <summary>The names a URL or path may refer to.</summary>
    public static readonly IReadOnlyList<string> Names = [Target, TargetHost, Batch, Release, PreviousRelease, Environment, Deployment];

    /// <summary>The values for one target: the deployment's own plus where this target is.</summary>
    public static IReadOnlyDictionary<string, string> For(IReadOnlyDictionary<string, string> deployment, DeploymentTarget target, int batch)
    {
        var values = new Dictionary<string, string>(deployment, StringComparer.Ordinal)
        {
            [Target] = target.Name,
            [TargetHost] = target.Host,
            [Batch] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return values;
    }

    /// <summary>Replaces <c>$NAME</c> and <c>${NAME}</c> for the names above; null and an error for any other <c>$</c> reference.</summary>
    public static string? Expand(string text, IReadOnlyDictionary<string, string> values, out string? error)
    {
        string? bad = null;
        var result = Reference().Replace(text, m =>
        {
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            if (values.TryGetValue(name, out var value)) return value;
            bad ??= name;
            return m.Value;
        });
        error = bad is null ? null : $"'{bad}' is not a value Slipway sets here; use one of {string.Join(", ", Names.Select(n => "$" + n))}";
        return bad is null ? result : null;
    }

    /// <summary>The names <paramref name="text"/> refers to that are not rollout values (for lint).</summary>
    public static IEnumerable<string> UnknownReferences(string text) =>
        Reference().Matches(text).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Where(n => !Names.Contains(n));

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
