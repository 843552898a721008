using Spectre.Console;

namespace Slipway.Cli;

/// <summary>
/// Reading passwords: from standard input (<c>--password-stdin</c>, one per line, for scripts) or, only when a
/// person is at a terminal, from a hidden Spectre.Console prompt written to stderr (stdout stays clean for --json).
/// A password never appears on the command line, where other users could see it in the process list.
/// </summary>
public static class Secrets
{
    public static bool Interactive => !Console.IsInputRedirected;

    private static readonly Lazy<IAnsiConsole> Prompter = new(() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }));

    /// <summary>Reads up to <paramref name="count"/> lines from stdin, without their line breaks (nothing else is trimmed).</summary>
    public static async Task<IReadOnlyList<string>> ReadStdinLinesAsync(int count)
    {
        var lines = new List<string>();
        while (lines.Count < count && await Console.In.ReadLineAsync() is { } line) lines.Add(line.TrimEnd('\r'));
        return lines;
    }

    /// <summary>A hidden prompt; <paramref name="allowEmpty"/> lets the person answer nothing.</summary>
    public static string Prompt(string label, bool allowEmpty = false)
    {
        var prompt = new TextPrompt<string>(label).Secret();
        if (allowEmpty) prompt.AllowEmpty();
        return Prompter.Value.Prompt(prompt);
    }

    /// <summary>Asks for a new password twice; null when the two differ (the caller reports it).</summary>
    public static string? PromptNew(string label, bool allowEmpty = false)
    {
        var first = Prompt(label, allowEmpty);
        if (first.Length == 0) return first;
        var second = Prompt("Repeat it:");
        return first == second ? first : null;
    }
}
