namespace Slipway.Server.Projects;

// Row shapes as read by Dapper (snake_case columns -> PascalCase). Every integer is long so the same
// class reads SQLite INTEGER and PostgreSQL BIGINT.

public sealed class ProjectRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string RepoUrl { get; set; } = "";
    public string DefaultBranch { get; set; } = "";
    public string WebhookSecret { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? LastFetchAt { get; set; }
    public string? LastFetchError { get; set; }
    /// <summary>The work item key prefix (SHOP for SHOP-42), or null before one is set.</summary>
    public string? ItemKeyPrefix { get; set; }
    /// <summary>
    /// The username of the credential for an external repository; null when it needs none, or when the credential is a
    /// token given as the user name of its address (then <see cref="GitPasswordProtected"/> holds the token).
    /// </summary>
    public string? GitUsername { get; set; }
    /// <summary>That credential's password (or token), encrypted (<see cref="Git.GitCredentials"/>).</summary>
    public string? GitPasswordProtected { get; set; }
    /// <summary>The project's own pattern for keys in branch names and commit messages, or null for the default.</summary>
    public string? ItemKeyPattern { get; set; }
}

public sealed class BranchRow
{
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string Head { get; set; } = "";
    public long UpdatedAt { get; set; }
}
