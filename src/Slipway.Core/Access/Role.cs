using System.Text.RegularExpressions;

namespace Slipway.Core.Access;

/// <summary>A named set of user actions. Built-in roles are defined in code; custom roles are stored.</summary>
public sealed record Role(string Name, string Description, IReadOnlySet<string> Actions, bool BuiltIn)
{
    private static readonly Regex NamePattern = new("^[a-z][a-z0-9-]{1,39}$", RegexOptions.CultureInvariant);

    /// <summary>Checks a custom role before it is stored; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static Role Custom(string name, string? description, IEnumerable<string> actions)
    {
        if (!NamePattern.IsMatch(name ?? ""))
            throw new ArgumentException("a role name is 2-40 lower-case letters, digits or '-', starting with a letter");
        if (BuiltInRoles.Find(name!) is not null)
            throw new ArgumentException($"'{name}' is a built-in role");
        var set = actions.Select(a => a.Trim()).Where(a => a.Length > 0).ToHashSet(StringComparer.Ordinal);
        var unknown = set.Where(a => !Access.Actions.UserActions.Contains(a)).Order().ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{(unknown.Count == 1 ? "not an action" : "not actions")} a role or token may hold: {string.Join(", ", unknown)} (slipway role actions lists them)");
        if (set.Count == 0) throw new ArgumentException("a role needs at least one action");
        return new Role(name!, description?.Trim() ?? "", set, BuiltIn: false);
    }
}
