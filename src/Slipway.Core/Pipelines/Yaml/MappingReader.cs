namespace Slipway.Core.Pipelines.Yaml;

/// <summary>
/// Typed access to one YAML mapping for the validator. Every accessor reports its own errors
/// (wrong type, missing key) to the sink and returns null/defaults, so the validator can keep
/// going and collect all errors in one pass. Unknown keys are reported when the reader opens.
/// </summary>
internal sealed class MappingReader
{
    private readonly YamlMapping _mapping;
    private readonly LintSink _sink;

    private MappingReader(YamlMapping mapping, string path, LintSink sink)
    {
        _mapping = mapping;
        Path = path;
        _sink = sink;
    }

    public string Path { get; }

    public YamlNode Node => _mapping;

    /// <summary>Opens a mapping, reporting wrong type and unknown keys; null when not a mapping.</summary>
    public static MappingReader? Open(YamlNode node, string path, string what, IReadOnlyList<string> knownKeys, LintSink sink)
    {
        if (node is not YamlMapping mapping)
        {
            sink.Add(node, path, $"{what} must be a mapping, not {node.Describe()}");
            return null;
        }
        foreach (var entry in mapping.Entries)
        {
            var key = entry.Key.Value;
            if (knownKeys.Contains(key)) continue;
            var suggestion = KeySuggestions.Closest(key, knownKeys);
            var hint = suggestion is not null
                ? $"did you mean '{suggestion}'?"
                : $"expected one of: {string.Join(", ", knownKeys)}";
            sink.Add(entry.Key, PathText.Key(path, key), $"unknown key {LintText.Quote(key)} in {what}; {hint}");
        }
        return new MappingReader(mapping, path, sink);
    }

    public string PathOf(string key) => PathText.Key(Path, key);

    /// <summary>The value node, or null when absent. An explicit null value counts as present.</summary>
    public YamlNode? Get(string key) => _mapping.Entries.FirstOrDefault(e => e.Key.Value == key)?.Value;

    public YamlNode? Require(string key)
    {
        var value = Get(key);
        if (value is null) _sink.Add(_mapping, PathOf(key), $"missing required key {LintText.Quote(key)}");
        return value;
    }

    /// <summary>A non-empty string from any non-null scalar (numbers and booleans as written).</summary>
    public string? String(string key, bool required)
    {
        var node = required ? Require(key) : Get(key);
        if (node is null) return null;
        if (node is not YamlScalar scalar || scalar.IsNull)
        {
            _sink.Add(node, PathOf(key), $"{LintText.Quote(key)} must be a string, not {node.Describe()}");
            return null;
        }
        if (string.IsNullOrWhiteSpace(scalar.Value))
        {
            _sink.Add(node, PathOf(key), $"{LintText.Quote(key)} must not be empty");
            return null;
        }
        return scalar.Value;
    }

    /// <summary>An integer written as a plain scalar (quoted "1" is a string, not a number).</summary>
    public int? Integer(string key, int min, int max)
    {
        var node = Get(key);
        if (node is null) return null;
        if (node is YamlScalar { IsPlain: true } scalar && int.TryParse(scalar.Value, System.Globalization.NumberStyles.AllowLeadingSign,
                System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            if (value >= min && value <= max) return value;
            _sink.Add(node, PathOf(key), $"{LintText.Quote(key)} must be between {min} and {max}, not {value}");
            return null;
        }
        var quoted = node is YamlScalar { IsPlain: false } s && int.TryParse(s.Value, System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out _);
        _sink.Add(node, PathOf(key), $"{LintText.Quote(key)} must be an integer between {min} and {max}, not {node.Describe()}" +
                                     (quoted ? " (a quoted number is a string: remove the quotes)" : ""));
        return null;
    }

    /// <summary>
    /// The sequence node, or null when absent or wrong type (reported). A null value (<c>jobs:</c>
    /// with nothing after it) reads as an empty list so callers report "is empty", not a type error.
    /// </summary>
    public YamlSequence? List(string key, string what, bool required)
    {
        var node = required ? Require(key) : Get(key);
        if (node is null) return null;
        if (node is YamlScalar { IsNull: true }) return new YamlSequence(node.Line, node.Column);
        if (node is YamlSequence seq) return seq;
        _sink.Add(node, PathOf(key), $"{LintText.Quote(key)} must be a list of {what}, not {node.Describe()}");
        return null;
    }

    /// <summary>A list of non-empty strings; each element checked by <paramref name="check"/> (returns an error or null).</summary>
    public IReadOnlyList<string> StringList(string key, string what, Func<string, string?>? check = null)
    {
        var seq = List(key, what, required: false);
        if (seq is null) return [];
        var result = new List<string>();
        for (var i = 0; i < seq.Items.Count; i++)
        {
            var item = seq.Items[i];
            var path = PathText.Index(PathOf(key), i);
            if (item is not YamlScalar s || s.IsNull || s.Value.Length == 0)
            {
                _sink.Add(item, path, $"each entry of {LintText.Quote(key)} must be a non-empty string, not {item.Describe()}");
                continue;
            }
            var error = check?.Invoke(s.Value);
            if (error is not null)
            {
                _sink.Add(item, path, error);
                continue;
            }
            result.Add(s.Value);
        }
        return result;
    }
}
