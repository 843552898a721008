using System.Text;
using Slipway.Core.Pipelines.Yaml;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Parses and lints <c>.slipway.yml</c>. Never throws on any input: every problem becomes a
/// <see cref="LintError"/>. Stages: size check, YAML to tree (syntax, tabs, duplicate keys,
/// alias/depth limits), then schema validation that collects all errors.
/// Thread-safe: no shared mutable state.
/// </summary>
public static class PipelineParser
{
    public const string DefaultFileName = ".slipway.yml";

    public static PipelineParseResult Parse(string text, string fileName = DefaultFileName)
    {
        var sink = new LintSink(fileName ?? DefaultFileName);
        PipelineDefinition? pipeline = null;
        try
        {
            pipeline = ParseInto(text ?? "", sink);
        }
        catch (Exception ex)
        {
            // Defence in depth: a bug here must show up as a lint error, not a 500.
            sink.Add(1, 1, "", $"internal error while reading the pipeline file: {ex.GetType().Name}: {ex.Message}");
        }
        return sink.Count == 0 && pipeline is not null
            ? new PipelineParseResult(pipeline, [])
            : new PipelineParseResult(null, sink.Sorted());
    }

    /// <summary>
    /// The result for a file of <paramref name="bytes"/> bytes that is over the limit, for callers that know
    /// the size without loading the file (the CLI from the file system, the server from git), or null if
    /// the size is within the limit.
    /// </summary>
    public static PipelineParseResult? RefuseIfTooLarge(long bytes, string fileName = DefaultFileName)
    {
        if (bytes <= PipelineLimits.MaxFileBytes) return null;
        var sink = new LintSink(fileName ?? DefaultFileName);
        AddTooLarge(sink, bytes);
        return new PipelineParseResult(null, sink.Sorted());
    }

    private static void AddTooLarge(LintSink sink, long bytes) =>
        sink.Add(1, 1, "", $"the pipeline file is {bytes} bytes; the limit is {PipelineLimits.MaxFileBytes} bytes (1 MiB)");

    private static PipelineDefinition? ParseInto(string text, LintSink sink)
    {
        // Checked before parsing so a huge file costs one pass over the string, nothing more.
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > PipelineLimits.MaxFileBytes)
        {
            AddTooLarge(sink, bytes);
            return null;
        }
        var root = YamlTreeReader.Read(text, sink);
        if (sink.Count > 0 && root is null) return null;
        if (root is null or YamlScalar { IsNull: true })
        {
            sink.Add(1, 1, "", "the pipeline file is empty; it needs a 'stages' list");
            return null;
        }
        return PipelineValidator.Validate(root, sink);
    }
}
