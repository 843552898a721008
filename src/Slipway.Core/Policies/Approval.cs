namespace Slipway.Core.Policies;

/// <summary>One approval as the policies see it: the roles are those the user held when approving.</summary>
public sealed record Approval(string User, IReadOnlySet<string> Roles, DateTimeOffset At, string? Comment);
