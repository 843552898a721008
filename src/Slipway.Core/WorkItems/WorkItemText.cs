namespace Slipway.Core.WorkItems;

/// <summary>
/// Rules for an item's title and description. Text is stored verbatim (HTML and shell metacharacters included:
/// escaping is the job of whoever renders it); control characters are refused because they make a title look
/// different in a terminal than it is. A description may have line breaks (CRLF is stored as LF) and tabs.
/// </summary>
public static class WorkItemText
{
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 20_000;

    /// <summary>Null when the title is acceptable, else why not.</summary>
    public static string? CheckTitle(string? title)
    {
        if (string.IsNullOrWhiteSpace(title)) return "the title is empty";
        if (title.Length > MaxTitleLength) return $"the title is longer than {MaxTitleLength} characters";
        if (title.Any(char.IsControl)) return "the title contains a control character (line breaks and tabs included)";
        return null;
    }

    /// <summary>The description as stored (CRLF → LF), or an error.</summary>
    public static (string? Text, string? Error) NormaliseDescription(string? description)
    {
        if (description is null) return ("", null);
        var text = description.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (text.Length > MaxDescriptionLength) return (null, $"the description is longer than {MaxDescriptionLength} characters");
        if (text.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
            return (null, "the description contains a control character other than a line break or tab");
        return (text, null);
    }
}
