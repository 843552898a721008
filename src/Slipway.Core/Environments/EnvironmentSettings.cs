using System.Text.RegularExpressions;

namespace Slipway.Core.Environments;

/// <summary>What happens to a deployment requested while another holds the environment.</summary>
public enum QueuePolicy
{
    /// <summary>Queued deployments start in the order they were requested.</summary>
    OldestFirst,
    /// <summary>Only the newest queued deployment starts; older queued ones are skipped and marked superseded.</summary>
    NewestWins,
}

/// <summary>
/// One environment of a project's lifecycle (dev → staging → production), configured on the server — never taken
/// from a branch's pipeline file. <see cref="Position"/> orders the lifecycle; an <see cref="Optional"/> environment
/// may be skipped on the way to a later one. Deployments run on agents of <see cref="Pool"/> only.
/// </summary>
/// <param name="Deployers">Roles and users allowed to deploy here (who must also hold <c>deployment.start</c>): entries
/// <c>role:NAME</c> or <c>user:NAME</c>. Empty: anyone with <c>deployment.start</c> on the project.</param>
/// <param name="RequiredApprovals">Distinct approvals needed before a deployment starts (0: none).</param>
/// <param name="ApproverRole">The role approvers must hold (null: any user with <c>deployment.approve</c>).</param>
/// <param name="AutoDeploy">New releases deploy here by themselves (staging: yes).</param>
public sealed partial record EnvironmentSettings(
    string Name,
    int Position,
    bool Optional,
    string Pool,
    IReadOnlyList<string> Deployers,
    int RequiredApprovals,
    string? ApproverRole,
    bool AutoDeploy,
    QueuePolicy Queue)
{
    public const int MaxRequiredApprovals = 10;

    /// <summary>Null when the settings are acceptable, else why not.</summary>
    public string? Check()
    {
        if (!NamePattern().IsMatch(Name)) return "an environment name is 1-32 lower-case letters, digits or '-', starting with a letter";
        // Quality gates name "ci" as the source of a release's own run's metrics (Gates/GateDefinition.Ci).
        if (Name == "ci") return "'ci' is reserved (quality gates use it for a release's own CI run); choose another environment name";
        if (Position is < 0 or > 1000) return "the position must be 0 to 1000";
        if (!PoolPattern().IsMatch(Pool)) return "a pool name is 1-64 letters, digits, '.', '_' or '-'";
        if (RequiredApprovals is < 0 or > MaxRequiredApprovals) return $"required approvals must be 0 to {MaxRequiredApprovals}";
        if (ApproverRole is { Length: 0 }) return "the approver role is empty";
        foreach (var d in Deployers)
            if (ParseDeployer(d) is null) return $"'{d}' is not a deployer; write role:NAME or user:NAME";
        return null;
    }

    /// <summary>(kind, name) of a <c>role:NAME</c> or <c>user:NAME</c> entry, or null.</summary>
    public static (string Kind, string Name)? ParseDeployer(string entry)
    {
        var colon = entry.IndexOf(':');
        if (colon <= 0 || colon == entry.Length - 1) return null;
        var kind = entry[..colon];
        var name = entry[(colon + 1)..];
        return kind is "role" or "user" && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? (kind, name) : null;
    }

    public static string QueueName(QueuePolicy policy) => policy == QueuePolicy.NewestWins ? "newest-wins" : "oldest-first";

    public static QueuePolicy ParseQueue(string? name) => name switch
    {
        null or "oldest-first" => QueuePolicy.OldestFirst,
        "newest-wins" => QueuePolicy.NewestWins,
        _ => throw new ArgumentException($"unknown queue policy '{name}'; policies are oldest-first, newest-wins"),
    };

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex PoolPattern();
}
