using System.Text.RegularExpressions;

namespace Slipway.Core.Secrets;

/// <summary>
/// The rule for project variable names, shared by the variables API and the pipeline file's
/// <c>secrets:</c> list. Names become environment variables of jobs, so names that Slipway sets itself
/// (<c>SLIPWAY_*</c>) or that change how the shell or the loader behaves are refused.
/// </summary>
public static partial class VariableNames
{
    public const string Rule = "use 1-128 letters, digits and '_', not starting with a digit";

    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal)
    {
        "PATH", "HOME", "SHELL", "USER", "PWD", "LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV",
        "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "CDPATH", "GLOBIGNORE", "PROMPT_COMMAND", "GCONV_PATH",
        "NODE_OPTIONS", "PERL5OPT", "PERL5LIB", "RUBYOPT", "PYTHONSTARTUP", "PYTHONPATH", "JAVA_TOOL_OPTIONS",
        "DOTNET_STARTUP_HOOKS",
    };

    /// <summary>
    /// Prefixes of variables that let a value run code in every job (a plain variable reaches jobs that hold
    /// secrets too): the dynamic loader, bash's exported functions and options, git's command hooks and config.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedPrefixes = ["SLIPWAY_", "LD_", "BASH_", "BASH_FUNC_", "GIT_"];

    /// <summary>Null when <paramref name="name"/> may be used, else why not.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name) || !Pattern().IsMatch(name))
            return $"invalid variable name '{name}'; {Rule}";
        if (Reserved.Contains(name))
            return $"variable name '{name}' is reserved ({string.Join(", ", Reserved)} cannot be set)";
        if (ReservedPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal)) is { } prefix)
            return $"variable name '{name}' uses the reserved prefix '{prefix}'";
        return null;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
