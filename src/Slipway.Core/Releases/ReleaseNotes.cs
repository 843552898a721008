using System.Text;
using Slipway.Core.WorkItems;

namespace Slipway.Core.Releases;

/// <summary>One work item as release notes show it.</summary>
public sealed record ReleaseNoteItem(string Key, string Title, WorkItemKind Kind);

/// <summary>
/// Generates a release's notes (markdown): a heading with the version, then the items grouped by kind in the
/// order features, bug fixes, chores, each group sorted by key number; empty groups are left out. Titles are
/// written as text: characters markdown would read as markup are escaped, line breaks become spaces. Pure.
/// </summary>
public static class ReleaseNotes
{
    private static readonly (WorkItemKind Kind, string Heading)[] Groups =
        [(WorkItemKind.Feature, "Features"), (WorkItemKind.Bug, "Bug fixes"), (WorkItemKind.Chore, "Chores")];

    public static string Generate(string version, IEnumerable<ReleaseNoteItem> items)
    {
        var list = items.ToList();
        var sb = new StringBuilder();
        sb.Append("# Release ").Append(Escape(version)).Append('\n');
        if (list.Count == 0)
        {
            sb.Append("\nNo work items since the previous release.\n");
            return sb.ToString();
        }
        foreach (var (heading, group) in Group(list))
        {
            sb.Append("\n## ").Append(heading).Append("\n\n");
            foreach (var item in group) sb.Append("- ").Append(item.Key).Append(": ").Append(Escape(item.Title)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The items under their headings, in the notes' order (features, bug fixes, chores; by key number); empty groups
    /// left out. The notes and the web UI's release page both group with this, so they always agree.
    /// </summary>
    public static IReadOnlyList<(string Heading, IReadOnlyList<ReleaseNoteItem> Items)> Group(IEnumerable<ReleaseNoteItem> items)
    {
        var list = items.ToList();
        return Groups
            .Select(g => (g.Heading, (IReadOnlyList<ReleaseNoteItem>)list.Where(i => i.Kind == g.Kind)
                .OrderBy(i => Number(i.Key)).ThenBy(i => i.Key, StringComparer.Ordinal).ToList()))
            .Where(g => g.Item2.Count > 0)
            .ToList();
    }

    private static long Number(string key) =>
        long.TryParse(key.AsSpan(key.LastIndexOf('-') + 1), out var n) ? n : long.MaxValue;

    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            if (ch is '\r' or '\n' or '\t') { sb.Append(' '); continue; }
            if (char.IsControl(ch)) continue;
            if ("\\`*_{}[]()<>#+-!|~".Contains(ch)) sb.Append('\\');
            sb.Append(ch);
        }
        return sb.ToString();
    }
}
