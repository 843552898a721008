namespace Slipway.Core.Pipelines.Yaml;

/// <summary>Quotes user text in messages, shortened so a hostile 1 MB value cannot bloat an error.</summary>
internal static class LintText
{
    public const int MaxShown = 60;

    public static string Quote(string value) =>
        value.Length <= MaxShown ? $"'{value}'" : $"'{value[..MaxShown]}…' ({value.Length} characters)";
}
