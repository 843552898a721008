namespace Slipway.Core.Pipelines;

/// <summary>
/// Every limit the pipeline parser enforces, in one place. They exist because pipeline files come
/// from repositories anyone with push access controls: the parser must stay fast and bounded on
/// hostile input (huge files, alias bombs, deep nesting).
/// </summary>
public static class PipelineLimits
{
    /// <summary>Files larger than this (UTF-8 bytes) are refused before any YAML parsing.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>Maximum number of YAML nodes after expanding every alias (guards billion laughs).</summary>
    public const int MaxNodes = 10_000;

    /// <summary>Maximum nesting of mappings and sequences, counted after alias expansion.</summary>
    public const int MaxDepth = 32;

    /// <summary>Largest accepted job timeout.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
}
