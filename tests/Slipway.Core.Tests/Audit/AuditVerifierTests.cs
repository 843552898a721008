using Slipway.Core.Audit;

namespace Slipway.Core.Tests.Audit;

public class AuditVerifierTests
{
    private static void AssertBadAt(AuditVerification v, long sequence, string problemStart)
    {
        Assert.False(v.Ok);
        Assert.Equal(sequence, v.FirstBadSequence);
        Assert.StartsWith(problemStart, v.Problem);
    }

    [Fact]
    public void IntactChain_IsOk_WithItsHead()
    {
        var chain = AuditLog.Chain(5);
        var v = AuditVerifier.Verify(chain);

        Assert.True(v.Ok, v.Problem);
        Assert.Equal(5, v.EntriesChecked);
        Assert.Equal(chain[^1].Hash, v.HeadHash);
        Assert.Equal(5, v.HeadSequence);
        Assert.Null(v.FirstBadSequence);
    }

    [Fact]
    public void EmptyLog_IsOk_AtGenesis()
    {
        var v = AuditVerifier.Verify([]);
        Assert.True(v.Ok);
        Assert.Equal(AuditChain.GenesisHash, v.HeadHash);
    }

    public static TheoryData<string, int> FieldEdits()
    {
        var data = new TheoryData<string, int>();
        foreach (var field in Edits.Keys)
            foreach (var index in new[] { 0, 2, 4 })
                data.Add(field, index);
        return data;
    }

    private static readonly Dictionary<string, Func<AuditEntry, AuditEntry>> Edits = new()
    {
        ["At"] = e => e with { At = e.At.AddMilliseconds(1) },
        ["ActorKind"] = e => e with { ActorKind = AuditActorKinds.System },
        ["Actor"] = e => e with { Actor = e.Actor.ToUpperInvariant() },
        ["Source"] = e => e with { Source = null },
        ["Action"] = e => e with { Action = "run.cancel" },
        ["Target"] = e => e with { Target = e.Target + " " },
        ["Outcome"] = e => e with { Outcome = AuditOutcomes.Denied },
        ["Detail"] = e => e with { Detail = "" },
        ["RequestId"] = e => e with { RequestId = "req-x" },
        ["PreviousHash"] = e => e with { PreviousHash = new string('f', 64) },
        ["Hash"] = e => e with { Hash = new string('f', 64) },
    };

    [Theory]
    [MemberData(nameof(FieldEdits))]
    public void ChangingAnyFieldOfAnyEntry_IsDetectedAtThatEntry(string field, int index)
    {
        var chain = AuditLog.Chain(5);
        chain[index] = Edits[field](chain[index]);

        var v = AuditVerifier.Verify(chain);

        AssertBadAt(v, index + 1, $"entry {index + 1} was changed (its content does not match its hash)");
        Assert.Equal(index, v.EntriesChecked - 1);
        Assert.Equal(index == 0 ? AuditChain.GenesisHash : chain[index - 1].Hash, v.HeadHash);
    }

    [Fact]
    public void ChangingASequenceNumber_IsDetected()
    {
        var chain = AuditLog.Chain(5);
        chain[2] = chain[2] with { Sequence = 4 };
        AssertBadAt(AuditVerifier.Verify(chain), 4, "entry 4 was changed");
    }

    [Fact]
    public void DeletingAMiddleEntry_IsDetectedAsAGap()
    {
        var chain = AuditLog.Chain(5);
        chain.RemoveAt(2);
        var v = AuditVerifier.Verify(chain);
        AssertBadAt(v, 4, "entry 4 does not follow entry 2: entry 3 was removed");
        Assert.Equal(chain[1].Hash, v.HeadHash);
    }

    [Fact]
    public void DeletingSeveralEntries_NamesTheRange()
    {
        var chain = AuditLog.Chain(6);
        chain.RemoveRange(1, 3);
        AssertBadAt(AuditVerifier.Verify(chain), 5, "entry 5 does not follow entry 1: entries 2 to 4 were removed");
    }

    [Fact]
    public void DeletingTheFirstEntry_IsDetected()
    {
        var chain = AuditLog.Chain(3);
        chain.RemoveAt(0);
        AssertBadAt(AuditVerifier.Verify(chain), 2, "entry 2 does not follow the start of the log: entry 1 was removed");
    }

    [Fact]
    public void SwappingTwoEntries_IsDetectedAsOutOfOrder()
    {
        var chain = AuditLog.Chain(5);
        (chain[1], chain[2]) = (chain[2], chain[1]);
        AssertBadAt(AuditVerifier.Verify(chain), 3, "entries out of order at 3");
    }

    [Fact]
    public void SwappingTwoEntriesContentAndResealing_IsDetectedByTheLinks()
    {
        // The forger keeps the sequence numbers, swaps what happened and recomputes both hashes.
        var chain = AuditLog.Chain(5);
        var second = AuditLog.Reseal(chain[2] with { Sequence = 2, PreviousHash = chain[0].Hash });
        var third = AuditLog.Reseal(chain[1] with { Sequence = 3, PreviousHash = second.Hash });
        chain[1] = second;
        chain[2] = third;
        AssertBadAt(AuditVerifier.Verify(chain), 4, "entry 4's previous-hash does not match entry 3's hash");
    }

    [Fact]
    public void RepeatedEntry_IsOutOfOrder()
    {
        var chain = AuditLog.Chain(3);
        chain.Insert(2, chain[1]);
        AssertBadAt(AuditVerifier.Verify(chain), 2, "entries out of order at 2: entry 2 appears twice");
    }

    [Fact]
    public void EntryGoingBackwards_IsOutOfOrder()
    {
        var chain = AuditLog.Chain(3);
        chain.Add(chain[0]);
        AssertBadAt(AuditVerifier.Verify(chain), 1, "entries out of order at 1: it comes after entry 3");
    }

    [Fact]
    public void ForgedEntryWithRecomputedHash_IsDetectedAtTheNextEntry()
    {
        var chain = AuditLog.Chain(5);
        chain[2] = AuditLog.Reseal(chain[2] with { Actor = "mallory", Outcome = AuditOutcomes.Denied });

        var v = AuditVerifier.Verify(chain);

        AssertBadAt(v, 4, "entry 4's previous-hash does not match entry 3's hash (an entry was removed, inserted or reordered)");
        Assert.Equal(3, v.HeadSequence);
    }

    [Fact]
    public void ForgedFirstEntry_LinkedToAnythingButGenesis_IsDetected()
    {
        var chain = AuditLog.Chain(2);
        chain[0] = AuditLog.Reseal(chain[0] with { PreviousHash = new string('a', 64) });
        AssertBadAt(AuditVerifier.Verify(chain), 1, "entry 1's previous-hash does not match the genesis hash");
    }

    [Fact]
    public void TruncatedTail_IsDetectedOnlyWithExpectedHead()
    {
        var chain = AuditLog.Chain(5);
        var head = chain[^1].Hash;
        chain.RemoveAt(4);

        Assert.True(AuditVerifier.Verify(chain).Ok);

        var v = AuditVerifier.Verify(chain, expectedHead: head);
        Assert.False(v.Ok);
        Assert.Null(v.FirstBadSequence);
        Assert.Null(v.ExpectedHeadSequence);
        Assert.StartsWith($"the expected head {head} is not the hash of any entry up to entry 4", v.Problem);
        Assert.Contains("entries were removed from the end, or the log was rewritten", v.Problem);
        Assert.True(AuditVerifier.Verify(AuditLog.Chain(5), expectedHead: head).Ok);
    }

    /// <summary>
    /// A head kept earlier is found wherever it sits in a chain that grew since (the verification's own entry included),
    /// with the number of entries after it: (chain length, index of the kept entry, entries expected after it).
    /// </summary>
    [Theory]
    [InlineData(5, 4, 0)]
    [InlineData(5, 3, 1)]
    [InlineData(6, 0, 5)]
    [InlineData(1, 0, 0)]
    public void ExpectedHead_IsFoundWhereverItSits_WithTheEntriesAfterIt(int length, int index, long after)
    {
        var chain = AuditLog.Chain(length);

        var v = AuditVerifier.Verify(chain, expectedHead: chain[index].Hash);

        Assert.True(v.Ok, v.Problem);
        Assert.Equal(chain[index].Sequence, v.ExpectedHeadSequence);
        Assert.Equal(after, v.EntriesAfterExpectedHead);
        Assert.Equal(chain[^1].Hash, v.HeadHash);
    }

    [Fact]
    public void ExpectedHead_TheGenesisHash_IsTheStartOfTheLog()
    {
        var v = AuditVerifier.Verify(AuditLog.Chain(3), expectedHead: AuditChain.GenesisHash);
        Assert.True(v.Ok, v.Problem);
        Assert.Equal((0L, 3L), (v.ExpectedHeadSequence!.Value, v.EntriesAfterExpectedHead!.Value));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("not-a-hash")]
    public void ExpectedHead_NotInTheChain_IsNotOk_EvenWhenTheChainLinksUp(string madeUp)
    {
        var v = AuditVerifier.Verify(AuditLog.Chain(4), expectedHead: madeUp);
        Assert.False(v.Ok);
        Assert.Null(v.FirstBadSequence);
        Assert.Null(v.ExpectedHeadSequence);
        Assert.Contains("is not the hash of any entry up to entry 4", v.Problem);
    }

    [Fact]
    public void ExpectedHead_OfARewrittenEntry_IsNotFound()
    {
        var original = AuditLog.Chain(4);
        var kept = original[2].Hash;
        // Rewritten from entry 3 on with recomputed hashes: the chain links up, but the kept head is gone.
        var rewritten = original.Take(2).ToList();
        var previous = rewritten[^1].Hash;
        foreach (var e in original.Skip(2))
        {
            var sealedEntry = AuditChain.Seal(e with { Detail = "rewritten", PreviousHash = "", Hash = "" }, previous);
            rewritten.Add(sealedEntry);
            previous = sealedEntry.Hash;
        }

        Assert.True(AuditVerifier.Verify(rewritten).Ok);
        Assert.False(AuditVerifier.Verify(rewritten, expectedHead: kept).Ok);
    }

    [Fact]
    public void StartAfter_ContinuesFromAVerifiedEntry()
    {
        var chain = AuditLog.Chain(6);
        var v = AuditVerifier.Verify(chain.Skip(3), startAfter: 3, startHash: chain[2].Hash, expectedHead: chain[^1].Hash);

        Assert.True(v.Ok, v.Problem);
        Assert.Equal(3, v.EntriesChecked);
        Assert.Equal(6, v.HeadSequence);
    }

    [Fact]
    public void StartAfter_WithTheWrongHash_IsDetectedAtTheFirstEntry()
    {
        var chain = AuditLog.Chain(6);
        AssertBadAt(AuditVerifier.Verify(chain.Skip(3), 3, chain[1].Hash), 4, "entry 4's previous-hash does not match entry 3's hash");
    }

    [Fact]
    public void Verify_Streams_ReadingNoFurtherThanOnePastTheProblem()
    {
        var read = 0;
        IEnumerable<AuditEntry> Source()
        {
            var chain = AuditLog.Chain(10);
            chain[3] = chain[3] with { Detail = "edited" };
            foreach (var e in chain) { read++; yield return e; }
        }

        Assert.False(AuditVerifier.Verify(Source()).Ok);
        Assert.Equal(4, read);
    }
}
