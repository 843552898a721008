namespace Slipway.Core.Pipelines;

/// <summary>
/// One problem in a pipeline file. <see cref="Line"/> and <see cref="Column"/> are 1-based.
/// <see cref="Path"/> is the field path, e.g. <c>stages[1].jobs[0].timeout</c> (empty for the document).
/// </summary>
public sealed record LintError(string File, int Line, int Column, string Path, string Message)
{
    /// <summary>The one format every surface prints: <c>FILE:LINE:COLUMN: path: message</c>.</summary>
    public override string ToString() =>
        Path.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Path}: {Message}";
}

/// <summary>Either a pipeline or at least one error, never both.</summary>
public sealed record PipelineParseResult(PipelineDefinition? Pipeline, IReadOnlyList<LintError> Errors)
{
    public bool IsValid => Pipeline is not null && Errors.Count == 0;
}
