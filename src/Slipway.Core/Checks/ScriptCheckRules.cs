namespace Slipway.Core.Checks;

/// <summary>
/// What a script check may be: a bash script (an administrator's, never a pipeline file's) that runs as a one-job run on
/// the environment's pool and passes when it exits 0, within at most <see cref="MaxTimeout"/>.
/// </summary>
public static class ScriptCheckRules
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);
    public const int MaxScriptLength = 10_000;

    /// <summary>Null when the script check is well-formed, else why not.</summary>
    public static string? Check(string? script, TimeSpan timeout, TimeSpan watch)
    {
        if (string.IsNullOrWhiteSpace(script)) return "a script check needs the script to run (bash; it passes when it exits 0)";
        if (script.Length > MaxScriptLength) return $"a check's script is limited to {MaxScriptLength} characters";
        if (script.Any(c => char.IsControl(c) && c is not ('\n' or '\t' or '\r'))) return "the script contains a control character";
        if (timeout <= TimeSpan.Zero || timeout > MaxTimeout) return $"a script check's timeout must be more than 0 and at most {MaxTimeout.TotalMinutes:0} min";
        if (watch < TimeSpan.Zero || watch > HttpCheckRules.MaxWatch) return "the watch window must be between 0 (none) and 1 day";
        return null;
    }
}
