using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Slipway.Core.Audit;

/// <summary>
/// Seals audit entries into a hash chain: each entry's hash is SHA-256 over the previous entry's
/// hash, a newline and the entry's canonical content. Editing any entry changes its hash; removing,
/// inserting or reordering one breaks the next entry's link. (Rewriting the whole tail from some
/// point is only detectable against a head hash kept elsewhere, see <see cref="AuditVerifier"/>.)
/// </summary>
public static class AuditChain
{
    /// <summary>The "previous hash" of the first entry.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>
    /// Every field except <see cref="AuditEntry.Hash"/> as one line of JSON with a fixed property
    /// order, timestamps as unix milliseconds and nulls written out (so null and "" differ).
    /// The string escaping is written here rather than taken from System.Text.Json on purpose: the
    /// hashes of old entries depend on these exact bytes, and the framework's encoder may change
    /// which characters it escapes between releases. Only '"', '\', control characters and lone
    /// surrogates are escaped (the last because UTF-8 cannot carry them and would merge them into U+FFFD).
    /// </summary>
    public static string CanonicalContent(AuditEntry e)
    {
        var sb = new StringBuilder(256);
        sb.Append('{');
        Number(sb, "sequence", e.Sequence, first: true);
        Number(sb, "at", e.At.ToUnixTimeMilliseconds());
        Text(sb, "actorKind", e.ActorKind);
        Text(sb, "actor", e.Actor);
        Text(sb, "source", e.Source);
        Text(sb, "action", e.Action);
        Text(sb, "target", e.Target);
        Text(sb, "outcome", e.Outcome);
        Text(sb, "detail", e.Detail);
        Text(sb, "requestId", e.RequestId);
        Text(sb, "previousHash", e.PreviousHash);
        sb.Append('}');
        return sb.ToString();
    }

    /// <summary>Lowercase hex SHA-256 of <c>previousHash + "\n" + canonical</c> in UTF-8.</summary>
    public static string ComputeHash(string previousHash, string canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previousHash + "\n" + canonical)));

    /// <summary>The entry linked to <paramref name="previousHash"/> and hashed; its time is cut to UTC milliseconds.</summary>
    public static AuditEntry Seal(AuditEntry unsealed, string previousHash)
    {
        if (!IsHash(previousHash))
            throw new ArgumentException("previous hash must be 64 lowercase hex digits", nameof(previousHash));
        if (!AuditActorKinds.All.Contains(unsealed.ActorKind))
            throw new ArgumentException($"unknown actor kind '{unsealed.ActorKind}'", nameof(unsealed));
        if (!AuditOutcomes.All.Contains(unsealed.Outcome))
            throw new ArgumentException($"unknown outcome '{unsealed.Outcome}'", nameof(unsealed));
        ArgumentException.ThrowIfNullOrEmpty(unsealed.Action);

        var linked = unsealed with { At = Normalize(unsealed.At), PreviousHash = previousHash, Hash = "" };
        return linked with { Hash = ComputeHash(previousHash, CanonicalContent(linked)) };
    }

    /// <summary>
    /// Seals a batch after the entry (<paramref name="afterSequence"/>, <paramref name="previousHash"/>),
    /// numbering them afterSequence + 1, + 2, ...; start a new log with (0, <see cref="GenesisHash"/>).
    /// </summary>
    public static IReadOnlyList<AuditEntry> SealAll(IEnumerable<AuditEntry> unsealed, long afterSequence, string previousHash)
    {
        var sealedEntries = new List<AuditEntry>();
        var sequence = afterSequence;
        foreach (var entry in unsealed)
        {
            var next = Seal(entry with { Sequence = ++sequence }, previousHash);
            sealedEntries.Add(next);
            previousHash = next.Hash;
        }
        return sealedEntries;
    }

    /// <summary>UTC, truncated to whole milliseconds: the precision the hash covers.</summary>
    public static DateTimeOffset Normalize(DateTimeOffset at) =>
        DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());

    public static bool IsHash(string? value) =>
        value is { Length: 64 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static void Number(StringBuilder sb, string name, long value, bool first = false)
    {
        if (!first) sb.Append(',');
        sb.Append('"').Append(name).Append("\":").Append(value.ToString(CultureInfo.InvariantCulture));
    }

    private static void Text(StringBuilder sb, string name, string? value)
    {
        sb.Append(",\"").Append(name).Append("\":");
        if (value is null) { sb.Append("null"); return; }
        sb.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var loneSurrogate =
                (char.IsHighSurrogate(c) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))) ||
                (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1])));
            if (c == '"') sb.Append("\\\"");
            else if (c == '\\') sb.Append("\\\\");
            else if (c < 0x20 || loneSurrogate) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        sb.Append('"');
    }
}
