using System.Text;
using Slipway.Core.Logs;

namespace Slipway.Core.Tests.Logs;

public class LogTextTests
{
    private static byte[] B(params int[] bytes) => bytes.Select(b => (byte)b).ToArray();
    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Reads a log page by page as LogsApi.ReadPageAsync does (a finished log).</summary>
    private static string ReadInPages(byte[] log, int pageSize)
    {
        var text = new StringBuilder();
        var offset = 0;
        while (offset < log.Length)
        {
            var slice = log.AsSpan(offset, Math.Min(pageSize, log.Length - offset));
            var usable = LogText.SafeLength(slice, isEnd: offset + slice.Length >= log.Length);
            Assert.True(usable > 0, $"no progress at offset {offset} with pages of {pageSize}");
            text.Append(LogText.Decode(slice[..usable]));
            offset += usable;
        }
        return text.ToString();
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello world\n")]
    [InlineData("tab\tseparated\nlines\n")]
    [InlineData("héllo € 日本 𝄞 ✓\n")]
    public void Decode_CleanText_IsUnchanged(string text) =>
        Assert.Equal(text, LogText.Decode(U(text)));

    [Fact]
    public void Decode_KeepingEscapes_KeepsOnlyTheEscapeCharacter()
    {
        // What the web UI asks for: colour codes and section markers intact, every other control byte still replaced, \r still a line end.
        var log = U("\u001b[31mred\u001b[0m\r\nsection_start:1:build\r\u001b[0KBuild\n\u0007\u0000\u007f");
        Assert.Equal("\u001b[31mred\u001b[0m\nsection_start:1:build\n\u001b[0KBuild\n\uFFFD\uFFFD\uFFFD", LogText.Decode(log, keepEscapes: true));
        Assert.Equal("\uFFFD[31mred\uFFFD[0m\nsection_start:1:build\n\uFFFD[0KBuild\n\uFFFD\uFFFD\uFFFD", LogText.Decode(log));
        Assert.Equal("\u001b[1mbold", LogText.Decode(U("\u001b[1mbold"), keepEscapes: true)); // nothing else to clean
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x00, 0x62 }, "a\uFFFDb")]
    [InlineData(new byte[] { 0x00, 0x00 }, "\uFFFD\uFFFD")]
    [InlineData(new byte[] { 0x1b, 0x5b, 0x33, 0x31, 0x6d }, "\uFFFD[31m")] // ANSI colour: ESC is replaced
    [InlineData(new byte[] { 0x07, 0x08, 0x0b, 0x0c, 0x7f }, "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD")]
    [InlineData(new byte[] { 0x09, 0x0a }, "\t\n")]
    public void Decode_ControlCharacters_AreReplacedExceptNewlineAndTab(byte[] bytes, string expected) =>
        Assert.Equal(expected, LogText.Decode(bytes));

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "a\uFFFDb")]        // never valid in UTF-8
    [InlineData(new byte[] { 0x61, 0x80, 0x62 }, "a\uFFFDb")]        // stray continuation byte
    [InlineData(new byte[] { 0x61, 0xE2, 0x82 }, "a\uFFFD")]         // truncated 3-byte character at the end
    [InlineData(new byte[] { 0xE2, 0x82, 0x61 }, "\uFFFDa")]         // truncated 3-byte character before ASCII
    [InlineData(new byte[] { 0xC3, 0x28 }, "\uFFFD(")]               // lead byte without its continuation
    public void Decode_InvalidUtf8_BecomesReplacementCharacter(byte[] bytes, string expected) =>
        Assert.Equal(expected, LogText.Decode(bytes));

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF })]                           // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]                     // UTF-16 surrogate encoded in UTF-8
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]               // above U+10FFFF
    public void Decode_ForbiddenSequences_NeverYieldSurrogatesOrControls(byte[] bytes)
    {
        var text = LogText.Decode(bytes);
        Assert.Contains('\uFFFD', text);
        Assert.All(text, c => Assert.True(c == '\uFFFD', $"unexpected U+{(int)c:X4}"));
    }

    [Theory]
    [InlineData("a\r\nb\r\n", "a\nb\n")]
    [InlineData("a\rb", "a\nb")]
    [InlineData("10%\r50%\r100%\n", "10%\n50%\n100%\n")]
    [InlineData("a\r", "a\n")]
    [InlineData("\r\r\n", "\n\n")]
    [InlineData("a\n\rb", "a\n\nb")]
    public void Decode_CarriageReturns_BecomeLineEnds(string raw, string expected) =>
        Assert.Equal(expected, LogText.Decode(U(raw)));

    [Fact]
    public void Decode_TenMegabyteLine_DecodesWithoutError()
    {
        var bytes = new byte[10 * 1024 * 1024];
        bytes.AsSpan().Fill((byte)'x');
        bytes[5_000_000] = 0;      // forces the cleaning pass over the whole line
        bytes[^1] = (byte)'\r';
        var text = LogText.Decode(bytes);
        Assert.Equal(bytes.Length, text.Length);
        Assert.Equal('\uFFFD', text[5_000_000]);
        Assert.Equal('\n', text[^1]);
    }

    [Theory]
    // "a€b" is 61 E2 82 AC 62: cutting inside '€' must leave it for the next page.
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(4, 4)]
    [InlineData(5, 5)]
    public void SafeLength_ThreeByteCharCutAtEveryPosition_NeverSplitsIt(int cut, int expected)
    {
        var bytes = U("a€b");
        Assert.Equal(expected, LogText.SafeLength(bytes.AsSpan(0, cut), isEnd: false));
        Assert.Equal(cut, LogText.SafeLength(bytes.AsSpan(0, cut), isEnd: true));
    }

    [Theory]
    [InlineData("é")]   // 2 bytes
    [InlineData("€")]   // 3 bytes
    [InlineData("𝄞")]   // 4 bytes
    public void SafeLength_MultiByteCharCutAtEveryPosition_EndsOnBoundary(string ch)
    {
        var bytes = U("ab" + ch + ch);
        var width = U(ch).Length;
        var boundaries = new[] { 0, 1, 2, 2 + width, 2 + 2 * width };
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var safe = LogText.SafeLength(bytes.AsSpan(0, cut), isEnd: false);
            Assert.Equal(boundaries.Where(b => b <= cut).Max(), safe);
            Assert.DoesNotContain('\uFFFD', LogText.Decode(bytes.AsSpan(0, safe)));
        }
    }

    [Fact]
    public void SafeLength_PartialCharAtEndOfLog_IsKeptAndDecodedAsReplacement()
    {
        var bytes = B(0x61, 0xE2, 0x82);
        Assert.Equal(3, LogText.SafeLength(bytes, isEnd: true));
        Assert.Equal("a\uFFFD", LogText.Decode(bytes));
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF })]             // invalid byte: nothing to wait for
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80 })] // only continuation bytes: no boundary near
    [InlineData(new byte[] { 0x61, 0x80 })]             // stray continuation after ASCII
    [InlineData(new byte[] { 0xE2, 0x82, 0xAC })]       // exactly one complete character
    public void SafeLength_NothingToWaitFor_TakesWholeSlice(byte[] bytes) =>
        Assert.Equal(bytes.Length, LogText.SafeLength(bytes, isEnd: false));

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(4096)]
    public void ReadInPages_AnyPageSize_GivesSameTextAsWholeLog(int pageSize)
    {
        var log = U("build € ok\r\nçà 𝄞 日本語\r\n10%\r20%\r\n\tdone ✓\r\n" + new string('x', 50) + "é\r\n");
        Assert.Equal(LogText.Decode(log), ReadInPages(log, pageSize));
    }

    [Fact]
    public void SafeLength_TrailingCarriageReturnBeforeEnd_IsLeftForNextPage()
    {
        // "a\r" | "\nb" must not become "a\n" + "\nb" (an extra blank line) when \r\n straddles a page end.
        Assert.Equal(1, LogText.SafeLength(U("a\r"), isEnd: false));
        Assert.Equal(2, LogText.SafeLength(U("a\r"), isEnd: true));
        Assert.Equal("a\nb", ReadInPages(U("a\r\nb"), 2));
    }

    [Theory]
    [InlineData(new byte[] { 0x0d })]
    [InlineData(new byte[] { 0xE2 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 })]
    public void SafeLength_LiveLogEndingMidSequence_WaitsForMoreBytes(byte[] bytes)
    {
        // A running job's log that currently ends here: nothing can be shown yet.
        Assert.Equal(0, LogText.SafeLength(bytes, isEnd: false));
        Assert.Equal(bytes.Length, LogText.SafeLength(bytes, isEnd: true));
    }
}
