namespace Slipway.Core.Pipelines;

/// <summary>Parses and lints <c>.slipway.yml</c>. Never throws on any input.</summary>
public static class PipelineParser
{
    public const string DefaultFileName = ".slipway.yml";

    public static PipelineParseResult Parse(string text, string fileName = DefaultFileName) =>
        throw new NotImplementedException("placeholder until the parser lands");
}
