namespace Slipway.Core.Access;

/// <summary>
/// What one user may do: their grants resolved through the roles, narrowed by the token they called with.
/// Pure and immutable; built per request from the stored grants.
/// Rules: a server-scoped action needs a global grant (except one's own account and the UI, which any grant
/// gives); a project-scoped action needs a global grant, or a
/// grant on that project (for the whole project or the target's environment). Asked without a project (a
/// list endpoint), a project-scoped action is allowed if any grant gives it; the list is then filtered with
/// <see cref="CanOnProject"/>. A token scope can only take permissions away.
/// </summary>
public sealed class Permissions
{
    private readonly IReadOnlyList<(Grant Grant, IReadOnlySet<string> Actions)> _grants;
    private readonly IReadOnlySet<string>? _tokenScope;

    public Permissions(IEnumerable<Grant> grants, Func<string, Role?> findRole, IReadOnlySet<string>? tokenScope = null)
    {
        // A grant whose role was deleted gives nothing rather than failing every request of that user.
        _grants = grants.Select(g => (g, findRole(g.Role)?.Actions ?? new HashSet<string>())).ToList();
        _tokenScope = tokenScope;
        Grants = _grants.Select(g => g.Grant).ToList();
    }

    public IReadOnlyList<Grant> Grants { get; }

    /// <summary>The scope of the token these permissions were narrowed by, or null (a session or an unscoped token).</summary>
    public IReadOnlySet<string>? TokenScope => _tokenScope;

    public bool Can(string action, Scope scope)
    {
        if (!Actions.Catalogue.TryGetValue(action, out var info) || info.Kind != ActionKind.User) return false;
        if (_tokenScope is not null && !_tokenScope.Contains(action)) return false;
        foreach (var (grant, actions) in _grants)
        {
            if (!actions.Contains(action)) continue;
            if (grant.IsGlobal) return true;
            // One's own account and the UI are not administration: a grant on any project gives them (else a user
            // granted only per project could not sign out, change their password or open the UI).
            if (action is Actions.AccountSelf or Actions.UiView) return true;
            if (info.Scope != ActionScope.Project) continue;
            if (scope.Project is null) return true; // list endpoint: filtered per project by the caller
            if (!string.Equals(grant.Project, scope.Project, StringComparison.Ordinal)) continue;
            if (grant.Environment is null || grant.Environment == scope.Environment || scope.Environment == Scope.AnyEnvironment) return true;
        }
        return false;
    }

    public bool Can(string action) => Can(action, Scope.Server);

    /// <summary>
    /// Whether a global grant gives the action (a grant on one project does not), for a change that reaches beyond one
    /// project: <see cref="Can(string)"/> answers true for a project grant too, since list endpoints filter per project.
    /// </summary>
    public bool CanOnEveryProject(string action)
    {
        if (!Actions.Catalogue.TryGetValue(action, out var info) || info.Kind != ActionKind.User) return false;
        if (_tokenScope is not null && !_tokenScope.Contains(action)) return false;
        return _grants.Any(g => g.Grant.IsGlobal && g.Actions.Contains(action));
    }

    public bool CanOnProject(string action, string project) => Can(action, Scope.ForProject(project));

    /// <summary>
    /// Whether the user was told the project exists: a grant on it (whole or one environment, any role), or a global grant
    /// of a role with any project action; whatever the token's scope. A refusal on a project they may not know of is
    /// answered as for a project that does not exist.
    /// </summary>
    public bool MayKnowOf(string project) =>
        _grants.Any(g => string.Equals(g.Grant.Project, project, StringComparison.Ordinal)
                         || (g.Grant.IsGlobal && g.Actions.Any(a => Actions.Catalogue.TryGetValue(a, out var info) && info.Scope == ActionScope.Project)));

    /// <summary>Every user action allowed somewhere (the set a new token's scope must stay within).</summary>
    public IReadOnlySet<string> Reachable() => Actions.UserActions.Where(a => Can(a, Scope.Server)).ToHashSet(StringComparer.Ordinal);
}
