namespace Slipway.Core.Pipelines.Yaml;

/// <summary>
/// A minimal YAML tree with a 1-based position on every node. Aliases are resolved to the anchored
/// node itself (shared, not copied), so an alias bomb costs no extra memory; its expanded size is
/// bounded separately by <see cref="YamlTreeReader"/>.
/// </summary>
internal abstract class YamlNode(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    /// <summary>Human description for "expected X, found Y" messages.</summary>
    public abstract string Describe();
}

internal sealed class YamlScalar(int line, int column, string value, bool isPlain) : YamlNode(line, column)
{
    /// <summary>The text exactly as written (after YAML unquoting/folding).</summary>
    public string Value { get; } = value;

    public bool IsPlain { get; } = isPlain;

    /// <summary>Plain empty, <c>~</c> and <c>null</c> are YAML's null; quoted "" is an empty string.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsNull ? "nothing (null)" : LintText.Quote(Value);
}

internal sealed class YamlSequence(int line, int column) : YamlNode(line, column)
{
    public List<YamlNode> Items { get; } = [];

    public override string Describe() => "a list";
}

internal sealed record YamlEntry(YamlScalar Key, YamlNode Value);

internal sealed class YamlMapping(int line, int column) : YamlNode(line, column)
{
    /// <summary>Entries in file order; duplicate keys were already reported and dropped.</summary>
    public List<YamlEntry> Entries { get; } = [];

    public override string Describe() => "a mapping";
}
