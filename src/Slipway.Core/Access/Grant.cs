namespace Slipway.Core.Access;

/// <summary>
/// A role given to a user, globally (no project) or for one project, optionally narrowed to one environment
/// of that project (issue 5). A narrower grant only ever covers project-scoped actions.
/// </summary>
public sealed record Grant(string Role, string? Project = null, string? Environment = null)
{
    public bool IsGlobal => Project is null;

    public override string ToString() =>
        Project is null ? Role : Environment is null ? $"{Role} on {Project}" : $"{Role} on {Project}/{Environment}";
}

/// <summary>What an action is aimed at: the server, a project, or one environment of a project.</summary>
/// <param name="Shown">How a refusal names what was asked for, when not by its project ("run 12": a refusal must not tell
/// which project a run id belongs to, or whether it exists).</param>
public sealed record Scope(string? Project = null, string? Environment = null, string? Shown = null)
{
    public static readonly Scope Server = new();
    public static Scope ForProject(string project) => new(project);

    /// <summary>
    /// "Some environment of the project": a grant on any one environment reaches it. For endpoints that name their
    /// environment only in the body or through a deployment; they check the exact environment themselves.
    /// </summary>
    public const string AnyEnvironment = "*";
    public static Scope ForAnyEnvironment(string project) => new(project, AnyEnvironment);
}
