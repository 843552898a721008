using Slipway.Core.Audit;

namespace Slipway.Core.Tests.Audit;

/// <summary>Builds small sealed chains for the audit tests; every call makes fresh entries.</summary>
internal static class AuditLog
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 30, 0, TimeSpan.Zero);

    public static AuditEntry Unsealed(int i, string? detail = null) => AuditEntry.Unsealed(
        0, T0.AddSeconds(i), AuditActorKinds.User, $"user{i}", "10.0.0." + i, "run.approve", $"run {i}",
        AuditOutcomes.Allowed, detail, $"req-{i}");

    /// <summary>A sealed chain of entries 1..count.</summary>
    public static List<AuditEntry> Chain(int count) =>
        AuditChain.SealAll(Enumerable.Range(1, count).Select(i => Unsealed(i)), 0, AuditChain.GenesisHash).ToList();

    /// <summary>Re-seals an edited entry so its own hash is right again (what a careful forger does).</summary>
    public static AuditEntry Reseal(AuditEntry e) => e with { Hash = AuditChain.ComputeHash(e.PreviousHash, AuditChain.CanonicalContent(e)) };
}
