using System.Text.RegularExpressions;
using Slipway.Client;

namespace Slipway.Cli.Commands.Run;

/// <summary>
/// How the run commands (run show/cancel/retry, logs, release create --run) name a run: by its id (<c>18</c>, the first
/// column of <c>slipway run list</c>), or by its project and number as everything else shows it (<c>shop#16</c>; plain
/// <c>#16</c> where the command already names the project).
/// </summary>
public static partial class RunRef
{
    public const string Help = "The run: its id (18, the first column of slipway run list) or project#number (shop#16)";

    [GeneratedRegex(@"^(?<project>[^#\s]*)#(?<number>[0-9]{1,18})$")]
    private static partial Regex ByNumber();

    /// <summary>
    /// The run's id; a project and number are looked up (404 when the project has no such run). <paramref name="project"/>
    /// is the project the command names, if any: a run of another project is refused rather than sent under it.
    /// </summary>
    public static async Task<long> ResolveAsync(SlipwayClient client, string text, CancellationToken ct, string? project = null)
    {
        text = text.Trim();
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)) return id;
        var m = ByNumber().Match(text);
        var typed = m.Success && m.Groups["project"].Value.Length > 0 ? m.Groups["project"].Value : null;
        var named = typed ?? project;
        if (!m.Success || named is null)
            throw new CliUsageException($"'{text}' names no run: give its id (18) or its project and number (shop#16)");
        if (!Core.Projects.ProjectNames.IsValid(named))
            throw new CliUsageException($"'{text}' names no run: {Core.Projects.ProjectNames.Rule}");
        if (typed is not null && project is not null && typed != project)
            throw new CliUsageException($"'{text}' is a run of project {typed}, not of {project}");
        return (await client.GetRunByNumberAsync(named, long.Parse(m.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture), ct)).Id;
    }
}
