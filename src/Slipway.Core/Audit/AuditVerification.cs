namespace Slipway.Core.Audit;

/// <summary>
/// The result of walking an audit chain. <see cref="HeadSequence"/> and <see cref="HeadHash"/> are
/// the last entry that verified; when <see cref="Ok"/> they can be stored as the next walk's start point.
/// With an expected head (a hash kept outside the log): <see cref="ExpectedHeadSequence"/> is the entry that has it
/// (0 for the genesis hash) and <see cref="EntriesAfterExpectedHead"/> how many entries follow it; both null when it was
/// not found (then the walk is not Ok) or none was given.
/// </summary>
public sealed record AuditVerification(
    bool Ok,
    long EntriesChecked,
    long? FirstBadSequence,
    string? Problem,
    string HeadHash,
    long HeadSequence,
    long? ExpectedHeadSequence = null,
    long? EntriesAfterExpectedHead = null);
