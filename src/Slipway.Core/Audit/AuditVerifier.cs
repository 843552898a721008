namespace Slipway.Core.Audit;

/// <summary>
/// Checks an audit chain entry by entry. It streams: it holds the previous entry's sequence and hash
/// and at most one entry of look-ahead, so a log of millions of rows can be read with a cursor.
/// Checks per entry, in this order, stopping at the first problem:
/// its hash matches its content (else it was changed); its sequence is the next one (else entries
/// are out of order or some were removed); its previous-hash is the preceding entry's hash (else an
/// entry was removed, inserted or reordered and the hashes re-computed). A chain cut short at the
/// end, or rewritten from some point on, still links up; only <c>expectedHead</c>, a head hash kept
/// outside the log, detects that: it must be the hash of some entry of the walked chain (the log grows after it was
/// kept, so it need not be the last one), and the result says which entry has it and how many follow. A kept head that is
/// no entry's hash means entries were removed from the end or the chain was rewritten.
/// Callers bound the walk to the entries that existed when it began (the verification's own audit entry and others
/// appended meanwhile are not chased).
/// </summary>
public static class AuditVerifier
{
    /// <param name="entries">The entries after <paramref name="startAfter"/>, in sequence order.</param>
    /// <param name="startAfter">Sequence of an already verified entry to continue from; 0 for the start of the log.</param>
    /// <param name="startHash">Hash of that entry; <see cref="AuditChain.GenesisHash"/> for the start of the log.</param>
    /// <param name="expectedHead">If given, a hash one of the entries must have (detects truncation at the end or a rewrite).</param>
    public static AuditVerification Verify(IEnumerable<AuditEntry> entries, long startAfter = 0,
        string startHash = AuditChain.GenesisHash, string? expectedHead = null)
    {
        var prevSequence = startAfter;
        var prevHash = startHash;
        long checkedCount = 0;
        long? expectedAt = expectedHead is null ? null
            : expectedHead == startHash ? startAfter : null;

        AuditVerification Bad(long sequence, string problem) =>
            new(false, checkedCount, sequence, problem, prevHash, prevSequence);

        using var cursor = entries.GetEnumerator();
        var hasCurrent = cursor.MoveNext();
        while (hasCurrent)
        {
            var e = cursor.Current;
            var n = e.Sequence;
            checkedCount++;

            if (AuditChain.ComputeHash(e.PreviousHash, AuditChain.CanonicalContent(e)) != e.Hash)
                return Bad(n, $"entry {n} was changed (its content does not match its hash)");

            if (n == prevSequence)
                return Bad(n, $"entries out of order at {n}: entry {n} appears twice");
            if (n < prevSequence)
                return Bad(n, $"entries out of order at {n}: it comes after entry {prevSequence}");

            // Look one entry ahead only here, to tell "moved later" from "removed".
            var hasNext = cursor.MoveNext();
            if (n > prevSequence + 1)
            {
                if (hasNext && cursor.Current.Sequence < n)
                    return Bad(n, $"entries out of order at {n}: entry {cursor.Current.Sequence} comes after it");
                var missing = n == prevSequence + 2 ? $"entry {prevSequence + 1} was" : $"entries {prevSequence + 1} to {n - 1} were";
                var previous = prevSequence == 0 ? "the start of the log" : $"entry {prevSequence}";
                return Bad(n, $"entry {n} does not follow {previous}: {missing} removed");
            }

            if (e.PreviousHash != prevHash)
            {
                var previous = prevSequence == 0 ? "the genesis hash" : $"entry {prevSequence}'s hash";
                return Bad(n, $"entry {n}'s previous-hash does not match {previous} (an entry was removed, inserted or reordered)");
            }

            prevSequence = n;
            prevHash = e.Hash;
            if (expectedHead is not null && e.Hash == expectedHead) expectedAt = n;
            hasCurrent = hasNext;
        }

        if (expectedHead is not null && expectedAt is null)
            return new(false, checkedCount, null,
                $"the expected head {expectedHead} is not the hash of any entry up to entry {prevSequence} (head {prevHash}): " +
                "entries were removed from the end, or the log was rewritten", prevHash, prevSequence);

        return new(true, checkedCount, null, null, prevHash, prevSequence, expectedAt, expectedAt is { } at ? prevSequence - at : null);
    }
}
