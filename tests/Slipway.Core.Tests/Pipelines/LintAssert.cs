using Slipway.Core.Pipelines;

namespace Slipway.Core.Tests.Pipelines;

internal static class LintAssert
{
    /// <summary>A minimal valid pipeline; job keys appended to it start at line 6, column 9.</summary>
    public const string Base = "stages:\n  - name: s\n    jobs:\n      - name: j\n        run: x\n";

    public static LintError HasError(string yaml, int line, int column, string path, string fragment)
    {
        var result = PipelineParser.Parse(yaml);
        Assert.Null(result.Pipeline);
        Assert.False(result.IsValid);
        var match = result.Errors.FirstOrDefault(e =>
            e.Line == line && e.Column == column && e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal));
        Assert.True(match is not null,
            $"expected {line}:{column} {path}: ...{fragment}... but got:\n{string.Join("\n", result.Errors)}");
        return match!;
    }

    public static PipelineDefinition Valid(string yaml)
    {
        var result = PipelineParser.Parse(yaml);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Pipeline!;
    }
}
