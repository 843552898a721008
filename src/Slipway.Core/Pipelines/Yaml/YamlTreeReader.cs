using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Slipway.Core.Pipelines.Yaml;

/// <summary>
/// Turns YAML text into a <see cref="YamlNode"/> tree by walking YamlDotNet's parser events directly.
/// Walking events (rather than YamlStream) gives a position for every node, lets us report duplicate
/// keys with both positions, and lets us bound alias expansion and depth while reading, so hostile
/// input never allocates more than the text itself.
/// Duplicate keys are reported and reading continues; everything else here is fatal for the file.
/// </summary>
internal sealed partial class YamlTreeReader
{
    private readonly string _text;
    private readonly LintSink _sink;
    private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
    private readonly Stack<Frame> _stack = new();
    private long _expandedNodes;
    private YamlNode? _root;

    private YamlTreeReader(string text, LintSink sink)
    {
        _text = text;
        _sink = sink;
    }

    /// <summary>
    /// Returns the root node, or null when the file has no document (empty or only comments) or
    /// when a fatal error was reported to <paramref name="sink"/>.
    /// </summary>
    public static YamlNode? Read(string text, LintSink sink) => new YamlTreeReader(text, sink).Read();

    private YamlNode? Read()
    {
        var parser = new Parser(new StringReader(_text));
        Mark last = Mark.Empty;
        var documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                last = ev.End;
                if (!Handle(ev, ref documents)) return null;
            }
            return _root;
        }
        catch (YamlException ex)
        {
            ReportSyntaxError((int)ex.Start.Line, (int)ex.Start.Column, CleanMessage(ex.Message));
            return null;
        }
        catch (Exception ex)
        {
            // YamlDotNet throws e.g. InvalidOperationException on some malformed flow collections;
            // the last good event is the best position we have.
            ReportSyntaxError((int)last.Line, (int)last.Column, ex.Message);
            return null;
        }
    }

    /// <returns>false when reading must stop (a fatal error was reported).</returns>
    private bool Handle(ParsingEvent ev, ref int documents)
    {
        switch (ev)
        {
            case DocumentStart start:
                if (++documents > 1)
                {
                    _sink.Add(start.Start, "", "the file contains more than one YAML document; a pipeline file holds exactly one");
                    return false;
                }
                return true;
            case Scalar scalar:
                var node = new YamlScalar((int)scalar.Start.Line, (int)scalar.Start.Column, scalar.Value,
                    scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty);
                return CountNodes(1, ev) && Attach(node, 1, 0, scalar.Anchor, ev);
            case AnchorAlias alias:
                if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    _sink.Add(alias.Start, CurrentChildPath(), $"unknown alias {LintText.Quote("*" + alias.Value.Value)} (anchors must be defined before they are used)");
                    return false;
                }
                if (_stack.Count + target.Height > PipelineLimits.MaxDepth)
                    return TooDeep(ev);
                return CountNodes(target.Size, ev) && Attach(target.Node, target.Size, target.Height, AnchorName.Empty, ev);
            case SequenceStart seq:
                return Open(new YamlSequence((int)seq.Start.Line, (int)seq.Start.Column), seq.Anchor, ev);
            case MappingStart map:
                return Open(new YamlMapping((int)map.Start.Line, (int)map.Start.Column), map.Anchor, ev);
            case SequenceEnd or MappingEnd:
                var frame = _stack.Pop();
                if (frame.Node is YamlMapping mapping) ApplyMerges(frame, mapping);
                return Attach(frame.Node, frame.Size, frame.Height, frame.Anchor, ev);
            default:
                return true;
        }
    }

    private bool Open(YamlNode node, AnchorName anchor, ParsingEvent ev)
    {
        if (_stack.Count + 1 > PipelineLimits.MaxDepth) return TooDeep(ev);
        if (!CountNodes(1, ev)) return false;
        _stack.Push(new Frame(node, anchor, CurrentChildPath()));
        return true;
    }

    private bool TooDeep(ParsingEvent ev)
    {
        _sink.Add(ev.Start, CurrentChildPath(), $"document nested too deeply (more than {PipelineLimits.MaxDepth} levels)");
        return false;
    }

    private bool CountNodes(int count, ParsingEvent ev)
    {
        _expandedNodes += count;
        if (_expandedNodes <= PipelineLimits.MaxNodes) return true;
        _sink.Add(ev.Start, CurrentChildPath(), $"document too complex (alias expansion exceeds {PipelineLimits.MaxNodes} nodes)");
        return false;
    }

    private bool Attach(YamlNode node, int size, int height, AnchorName anchor, ParsingEvent ev)
    {
        if (!anchor.IsEmpty) _anchors[anchor.Value] = new Anchored(node, size, height);
        if (_stack.Count == 0)
        {
            _root = node;
            return true;
        }
        var parent = _stack.Peek();
        parent.Size += size;
        parent.Height = Math.Max(parent.Height, height + 1);
        switch (parent.Node)
        {
            case YamlSequence seq:
                seq.Items.Add(node);
                break;
            case YamlMapping map when parent.PendingKey is null && !parent.SkipValue:
                if (node is YamlScalar key)
                {
                    parent.PendingKey = key;
                }
                else
                {
                    _sink.Add(node, parent.Path, "mapping keys must be plain strings, not " + node.Describe());
                    parent.SkipValue = true;
                }
                break;
            case YamlMapping map:
                AddEntry(parent, map, node);
                break;
        }
        return true;
    }

    private void AddEntry(Frame parent, YamlMapping map, YamlNode value)
    {
        var key = parent.PendingKey;
        parent.PendingKey = null;
        parent.SkipValue = false;
        if (key is null) return;
        if (key.IsPlain && key.Value == MergeKey)
        {
            parent.Merges.Add((key, value));
            return;
        }
        if (parent.SeenKeys.TryGetValue(key.Value, out var first))
        {
            _sink.Add(key.Line, key.Column, PathText.Key(parent.Path, key.Value),
                $"duplicate key {LintText.Quote(key.Value)} (first defined at line {first.Line})");
            return;
        }
        parent.SeenKeys[key.Value] = key;
        map.Entries.Add(new YamlEntry(key, value));
    }

    /// <summary>
    /// YAML 1.1 merge keys (<c>&lt;&lt;: *defaults</c> or <c>&lt;&lt;: [*a, *b]</c>), the usual way to
    /// reuse anchored job settings. Keys written in the mapping win; among sources the first wins.
    /// Merged values are shared nodes already counted by their alias, so no extra node budget.
    /// </summary>
    private void ApplyMerges(Frame frame, YamlMapping mapping)
    {
        foreach (var (key, value) in frame.Merges)
        {
            var sources = value switch
            {
                YamlMapping single => [single],
                YamlSequence seq when seq.Items.All(i => i is YamlMapping) => seq.Items.Cast<YamlMapping>().ToList(),
                _ => null,
            };
            if (sources is null)
            {
                _sink.Add(value, PathText.Key(frame.Path, MergeKey), "'<<' (merge) needs a mapping or a list of mappings, not " + value.Describe());
                continue;
            }
            foreach (var entry in sources.SelectMany(m => m.Entries))
            {
                if (!frame.SeenKeys.TryAdd(entry.Key.Value, entry.Key)) continue;
                mapping.Entries.Add(entry);
            }
        }
    }

    private const string MergeKey = "<<";

    /// <summary>Path of the node about to be attached to the innermost open collection.</summary>
    private string CurrentChildPath()
    {
        if (_stack.Count == 0) return "";
        var parent = _stack.Peek();
        return parent.Node switch
        {
            YamlSequence seq => PathText.Index(parent.Path, seq.Items.Count),
            _ when parent.PendingKey is not null => PathText.Key(parent.Path, parent.PendingKey.Value),
            _ => parent.Path,
        };
    }

    private void ReportSyntaxError(int line, int column, string message)
    {
        // YamlDotNet reports tab indentation at (1,1); point at the real tab instead. Only when the
        // error is about tabs (or sits at 1:1), since tabs inside block scalars are legitimate.
        var aboutTabs = message.Contains("tab", StringComparison.OrdinalIgnoreCase) || (line <= 1 && column <= 1);
        if (aboutTabs && FirstIndentationTab(_text) is { } tab)
        {
            _sink.Add(tab.Line, tab.Column, "", "tab character used for indentation; use spaces");
            return;
        }
        _sink.Add(Math.Max(1, line), Math.Max(1, column), "", "invalid YAML: " + message);
    }

    internal static (int Line, int Column)? FirstIndentationTab(string text)
    {
        var lineNo = 1;
        var col = 1;
        var inIndent = true;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                lineNo++;
                col = 1;
                inIndent = true;
                continue;
            }
            if (inIndent)
            {
                if (c == '\t') return (lineNo, col);
                if (c != ' ' && c != '\r') inIndent = false;
            }
            col++;
        }
        return null;
    }

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line: ...): "; we print our own position.
    private static string CleanMessage(string message) => PositionPrefix().Replace(message, "").Trim();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex PositionPrefix();

    private sealed record Anchored(YamlNode Node, int Size, int Height);

    private sealed class Frame(YamlNode node, AnchorName anchor, string path)
    {
        public YamlNode Node { get; } = node;
        public AnchorName Anchor { get; } = anchor;
        public string Path { get; } = path;
        public int Size { get; set; } = 1;
        public int Height { get; set; } = 1;
        public YamlScalar? PendingKey { get; set; }
        public bool SkipValue { get; set; }
        public Dictionary<string, YamlScalar> SeenKeys { get; } = new(StringComparer.Ordinal);
        public List<(YamlScalar Key, YamlNode Value)> Merges { get; } = [];
    }
}
