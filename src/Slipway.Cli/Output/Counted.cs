namespace Slipway.Cli.Output;

/// <summary>A count with its noun in the right number: "1 commit", "2 commits", "0 entries". Every count the CLI prints goes through it.</summary>
public static class Counted
{
    /// <summary><paramref name="count"/> and <paramref name="singular"/>, or its plural (by default the singular plus "s").</summary>
    public static string Of(long count, string singular, string? plural = null) =>
        $"{count} {(count == 1 ? singular : plural ?? singular + "s")}";
}
