using System.Text.RegularExpressions;

namespace Slipway.Core.Projects;

/// <summary>What a project may be called: the server refuses other names, and the CLI refuses to send one (a name such as
/// <c>..</c> would otherwise become a different path once the HTTP client removes dot segments).</summary>
public static partial class ProjectNames
{
    public const string Rule = "a project name is 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit";

    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();
}
