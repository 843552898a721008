using Slipway.Core.Audit;

namespace Slipway.Core.Tests.Audit;

public class AuditChainTests
{
    [Fact]
    public void GenesisHash_Is64Zeros() => Assert.Equal(new string('0', 64), AuditChain.GenesisHash);

    [Fact]
    public void ComputeHash_IsLowercaseHexSha256OfPreviousNewlineContent() =>
        Assert.Equal("0152f4f98e11e409b35bfa9b5e18c329427b7f29deedbc071733db222ce38158",
            AuditChain.ComputeHash(AuditChain.GenesisHash, "x"));

    [Fact]
    public void CanonicalContent_HasFixedOrderUnixMillisAndExplicitNulls()
    {
        var e = new AuditEntry(7, AuditLog.T0.AddMilliseconds(5), "user", "al\"ice", null, "run.approve", "run\n3",
            "allowed", "", null, "prev", "ignored");
        Assert.Equal(
            "{\"sequence\":7,\"at\":1740821400005,\"actorKind\":\"user\",\"actor\":\"al\\\"ice\",\"source\":null," +
            "\"action\":\"run.approve\",\"target\":\"run\\u000a3\",\"outcome\":\"allowed\",\"detail\":\"\"," +
            "\"requestId\":null,\"previousHash\":\"prev\"}",
            AuditChain.CanonicalContent(e));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("a,b", "a\",\"b")]
    [InlineData("\ud800", "\ufffd")]    // a lone surrogate and the replacement character UTF-8 would turn it into
    [InlineData("<script>", "\\u003Cscript\\u003E")]
    public void CanonicalContent_DistinguishesValuesThatCouldCollide(string? a, string? b)
    {
        var x = AuditLog.Unsealed(1, a);
        var y = AuditLog.Unsealed(1, b);
        Assert.NotEqual(AuditChain.CanonicalContent(x), AuditChain.CanonicalContent(y));
    }

    [Fact]
    public void CanonicalContent_IgnoresTheHashField()
    {
        var e = AuditLog.Chain(1)[0];
        Assert.Equal(AuditChain.CanonicalContent(e), AuditChain.CanonicalContent(e with { Hash = "other" }));
    }

    [Fact]
    public void Seal_LinksToPreviousAndCutsTimeToUtcMilliseconds()
    {
        var local = new DateTimeOffset(2025, 3, 1, 11, 30, 0, TimeSpan.FromHours(2)).AddTicks(12_345); // 1.2345 ms
        var sealedEntry = AuditChain.Seal(AuditLog.Unsealed(1) with { Sequence = 1, At = local }, AuditChain.GenesisHash);

        Assert.Equal(AuditChain.GenesisHash, sealedEntry.PreviousHash);
        Assert.Equal(TimeSpan.Zero, sealedEntry.At.Offset);
        Assert.Equal(AuditLog.T0.AddMilliseconds(1), sealedEntry.At);
        Assert.Equal(AuditChain.ComputeHash(AuditChain.GenesisHash, AuditChain.CanonicalContent(sealedEntry)), sealedEntry.Hash);
    }

    [Fact]
    public void SealAll_NumbersAfterTheStartAndChainsEachToTheLast()
    {
        var first = AuditLog.Chain(2);
        var more = AuditChain.SealAll([AuditLog.Unsealed(3), AuditLog.Unsealed(4)], 2, first[1].Hash);

        Assert.Equal([1L, 2L], first.Select(e => e.Sequence));
        Assert.Equal([3L, 4L], more.Select(e => e.Sequence));
        Assert.Equal(first[1].Hash, more[0].PreviousHash);
        Assert.Equal(more[0].Hash, more[1].PreviousHash);
    }

    [Theory]
    [InlineData("robot", "allowed", AuditChain.GenesisHash)]
    [InlineData("user", "maybe", AuditChain.GenesisHash)]
    [InlineData("user", "allowed", "abc")]
    [InlineData("user", "allowed", "0000000000000000000000000000000000000000000000000000000000000ABC")]
    public void Seal_RejectsUnknownKindsOutcomesAndMalformedHashes(string kind, string outcome, string previous) =>
        Assert.Throws<ArgumentException>(() =>
            AuditChain.Seal(AuditLog.Unsealed(1) with { ActorKind = kind, Outcome = outcome }, previous));
}
