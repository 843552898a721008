namespace Slipway.Core.Pipelines;

/// <summary>Glob matching for branch filters and artifact/report paths.</summary>
public static class Glob
{
    public static bool IsMatch(string pattern, string path) =>
        throw new NotImplementedException("placeholder until the parser lands");
}
