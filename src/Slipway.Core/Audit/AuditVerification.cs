namespace Slipway.Core.Audit;

/// <summary>
/// The result of walking an audit chain. <see cref="HeadSequence"/> and <see cref="HeadHash"/> are
/// the last entry that verified; when <see cref="Ok"/> they can be stored as the next walk's start point.
/// </summary>
public sealed record AuditVerification(
    bool Ok,
    long EntriesChecked,
    long? FirstBadSequence,
    string? Problem,
    string HeadHash,
    long HeadSequence);
