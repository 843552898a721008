namespace Slipway.Core.Pipelines.Yaml;

/// <summary>Builds lint paths such as <c>stages[1].jobs[0].timeout</c>.</summary>
internal static class PathText
{
    public static string Key(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    public static string Index(string parent, int index) => $"{parent}[{index}]";
}
