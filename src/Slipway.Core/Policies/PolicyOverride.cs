namespace Slipway.Core.Policies;

/// <summary>An actor's request to bypass a refusal; the reason is kept on the decision and audited.</summary>
public sealed record PolicyOverride(string Actor, string Reason);
