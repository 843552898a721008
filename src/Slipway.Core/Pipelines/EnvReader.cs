using System.Text.RegularExpressions;
using Slipway.Core.Pipelines.Yaml;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Reads an <c>env:</c> mapping at any level. Values are scalars kept exactly as written, so
/// <c>1.10</c> stays "1.10" and <c>yes</c> stays "yes" (no YAML type coercion surprises).
/// </summary>
internal static partial class EnvReader
{
    /// <summary>Variables with this prefix are set by Slipway itself; a pipeline may not override them.</summary>
    public const string ReservedPrefix = "SLIPWAY_";

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IReadOnlyDictionary<string, string> Read(MappingReader owner, LintSink sink)
    {
        var node = owner.Get("env");
        if (node is null or YamlScalar { IsNull: true }) return Empty;
        var path = owner.PathOf("env");
        if (node is not YamlMapping mapping)
        {
            sink.Add(node, path, $"'env' must be a mapping of NAME: value, not {node.Describe()}");
            return Empty;
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Entries)
        {
            var name = key.Value;
            var entryPath = PathText.Key(path, name);
            if (!NamePattern().IsMatch(name))
            {
                sink.Add(key, entryPath, $"invalid environment variable name {LintText.Quote(name)}; use letters, digits and '_', not starting with a digit");
                continue;
            }
            if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                sink.Add(key, entryPath, $"environment variable {LintText.Quote(name)} uses the reserved prefix '{ReservedPrefix}'");
                continue;
            }
            if (value is not YamlScalar scalar)
            {
                sink.Add(value, entryPath, $"environment variable {LintText.Quote(name)} must be a string, number or boolean, not {value.Describe()}");
                continue;
            }
            if (scalar.IsNull)
            {
                sink.Add(value, entryPath, $"environment variable {LintText.Quote(name)} has no value; write \"\" for an empty string");
                continue;
            }
            env[name] = scalar.Value;
        }
        return env;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
