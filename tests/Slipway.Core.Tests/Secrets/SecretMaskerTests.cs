using System.Text;
using Slipway.Core.Secrets;

namespace Slipway.Core.Tests.Secrets;

public class SecretMaskerTests
{
    private const string Secret = "s3cr3t-Value+/=?&x y";

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Feeds the chunks one by one, then flushes; returns everything emitted as text.</summary>
    private static string Run(SecretMasker masker, params byte[][] chunks)
    {
        var output = new List<byte>();
        foreach (var chunk in chunks) output.AddRange(masker.Process(chunk));
        output.AddRange(masker.Flush());
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static string Mask(string text, params string[] secrets) => Run(new SecretMasker(secrets), U(text));

    [Theory]
    [InlineData("before s3cr3t-Value+/=?&x y after", "before *** after")]
    [InlineData("s3cr3t-Value+/=?&x y", "***")]
    [InlineData("s3cr3t-Value+/=?&x ys3cr3t-Value+/=?&x y", "******")]
    [InlineData("nothing here\n", "nothing here\n")]
    [InlineData("s3cr3t-Value almost", "s3cr3t-Value almost")]
    public void Raw_IsMasked(string text, string expected) => Assert.Equal(expected, Mask(text, Secret));

    [Fact]
    public void SplitAcrossTwoWrites_AtEveryPosition_IsMasked()
    {
        var text = U($"log line {Secret} end\n");
        for (var cut = 0; cut <= text.Length; cut++)
        {
            var masked = Run(new SecretMasker([Secret]), text[..cut], text[cut..]);
            Assert.Equal("log line *** end\n", masked);
        }
    }

    [Fact]
    public void OneByteChunks_AreMasked()
    {
        var text = U($"a {Secret} b {Secret}\n");
        var masked = Run(new SecretMasker([Secret]), text.Select(b => new[] { b }).ToArray());
        Assert.Equal("a *** b ***\n", masked);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Base64_EmbeddedAtEachAlignment_LeavesNoSecretCharacters(int offset)
    {
        var prefix = U(new string('p', offset + 3));
        var suffix = U("-trailing-bytes");
        var data = prefix.Concat(U(Secret)).Concat(suffix).ToArray();
        foreach (var encoded in new[] { Convert.ToBase64String(data), Convert.ToBase64String(data).Replace('+', '-').Replace('/', '_') })
        {
            var masked = Mask($"token: {encoded}\n", Secret);
            Assert.Contains("***", masked);
            // The first two 4-character groups that encode secret bytes only, at this alignment, must be gone.
            var firstSecretGroup = 4 * ((prefix.Length + 2) / 3);
            Assert.DoesNotContain(encoded.Substring(firstSecretGroup, 8), masked);
            var untouchedPrefix = encoded[..(8 * prefix.Length / 6)];
            Assert.StartsWith("token: " + untouchedPrefix, masked);
        }
    }

    [Fact]
    public void Base64_OfTheValueAlone_IsMaskedWholly()
    {
        var encoded = Convert.ToBase64String(U(Secret));
        Assert.Equal("x *** y", Mask($"x {encoded} y", Secret));
    }

    [Theory]
    [InlineData("s3cr3t-Value%2B%2F%3D%3F%26x%20y")]      // Uri.EscapeDataString / jq @uri
    [InlineData("s3cr3t-Value%2b%2f%3d%3f%26x%20y")]      // lower-case hex
    [InlineData("s3cr3t-Value%2B/%3D%3F%26x%20y")]        // python urllib.parse.quote (keeps '/')
    [InlineData("s3cr3t-Value%2B%2F%3D%3F%26x+y")]        // form encoding
    public void UrlEncoded_IsMasked(string encoded) => Assert.Equal("u=***&v=1", Mask($"u={encoded}&v=1", Secret));

    private const string Pem =
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
        "QyNTUxOQAAACBFnvB5O6o2tU9Yd7VddHqf1S6n0HrGYTVjtlFNkVhp1wAAAJg5pl0uOaZd\n" +
        "-----END OPENSSH PRIVATE KEY-----\n";

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Pem_MultiLine_EveryLineIsMasked(string newline)
    {
        var printed = "key:\n" + Pem.Replace("\n", newline) + "done\n";
        var masked = Mask(printed, Pem);
        foreach (var line in Pem.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.DoesNotContain(line, masked);
        Assert.StartsWith("key:\n***", masked);
        Assert.EndsWith("done\n", masked);
    }

    [Fact]
    public void Pem_AsJson_IsMasked()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new { key = Pem });
        var masked = Mask(json, Pem);
        Assert.Equal("{\"key\":\"***\"}", masked);
    }

    [Theory]
    [InlineData("abcdef", "xabcdefx", "x***x")]
    [InlineData("abcdef", "xabcdx", "x***x")]             // the shorter secret alone
    [InlineData("abcdef", "abcdabcdef", "******")]
    [InlineData("bcdefg", "abcdefgh", "***h")]            // overlapping matches are masked as one region
    [InlineData("cdxy", "zabcdxyq", "z***q")]
    public void OverlappingSecrets_AreMaskedTogether(string other, string text, string expected) =>
        Assert.Equal(expected, Mask(text, "abcd", other));

    [Fact]
    public void OverlappingSecrets_LongerOneSplitAfterShorterOne_StillMaskedWhole()
    {
        var masker = new SecretMasker(["abcd", "abcdef"]);
        var first = Encoding.UTF8.GetString(masker.Process(U("x abcde")));
        var rest = Encoding.UTF8.GetString(masker.Process(U("f y"))) + Encoding.UTF8.GetString(masker.Flush());
        Assert.Equal("x ", first);
        Assert.Equal("*** y", rest);
    }

    [Theory]
    [InlineData("xyq", "z***q")]
    [InlineData("zz", "z***zz")]
    [InlineData("xy", "z***")]
    public void OverlappingSecrets_RegionGrowingAcrossWrites_ShowsNoPartOfEither(string second, string expected) =>
        Assert.Equal(expected, Run(new SecretMasker(["abcd", "cdxy"]), U("zabcd"), U(second)));

    [Theory]
    [InlineData("plain output\n")]
    [InlineData("ends with s")]
    [InlineData("ends with s3cr3t-Valuf")]
    public void OutputWithoutPartialMatch_IsNotDelayed(string text)
    {
        var masker = new SecretMasker([Secret]);
        var emitted = Encoding.UTF8.GetString(masker.Process(U(text)));
        var held = masker.Flush();
        if (text.EndsWith('s'))
        {
            Assert.Equal(text[..^1], emitted); // a trailing 's' could start the secret: only it is held
            Assert.Equal("s", Encoding.UTF8.GetString(held));
        }
        else
        {
            Assert.Equal(text, emitted);
            Assert.Empty(held);
        }
    }

    [Fact]
    public void BinaryData_PassesThroughExceptTheSecret()
    {
        var random = new Random(42);
        var noise = new byte[10_000];
        random.NextBytes(noise);
        var data = noise.Take(5000).Concat(U(Secret)).Concat(noise.Skip(5000)).ToArray();
        var masker = new SecretMasker([Secret]);
        var output = new List<byte>();
        for (var i = 0; i < data.Length; i += 777) output.AddRange(masker.Process(data.AsSpan(i, Math.Min(777, data.Length - i))));
        output.AddRange(masker.Flush());
        var expected = noise.Take(5000).Concat("***"u8.ToArray()).Concat(noise.Skip(5000)).ToArray();
        Assert.Equal(expected, output.ToArray());
    }

    [Fact]
    public void ShortForms_AreNeverPatterns()
    {
        var masker = new SecretMasker(["abc", "", "abcd"]);
        Assert.All(masker.Patterns, p => Assert.True(p.Length >= SecretMasker.MinimumLength));
        Assert.Equal("abc *** ab", Mask("abc abcd ab", "abc", "abcd"));
    }

    [Fact]
    public void NoSecrets_ChangesNothing()
    {
        var masker = new SecretMasker([]);
        Assert.True(masker.IsEmpty);
        Assert.Equal(U("abc"), masker.Process(U("abc")));
        Assert.Empty(masker.Flush());
    }

    [Fact]
    public void MaskText_MasksAMessageWithoutTouchingTheStream()
    {
        var masker = new SecretMasker([Secret]);
        Assert.Empty(masker.Process(U("s3cr")));
        Assert.Equal("agent error: *** failed", masker.MaskText($"agent error: {Secret} failed"));
        Assert.Equal("***", Encoding.UTF8.GetString(masker.Process(U("3t-Value+/=?&x y"))));
    }

    [Theory]
    [InlineData("DEPLOY_KEY", true)]
    [InlineData("_x", true)]
    [InlineData("9LIVES", false)]
    [InlineData("has-dash", false)]
    [InlineData("", false)]
    [InlineData("SLIPWAY_TOKEN", false)]
    [InlineData("PATH", false)]
    [InlineData("LD_PRELOAD", false)]
    [InlineData("BASH_ENV", false)]
    public void VariableNames_FollowTheRule(string name, bool allowed) => Assert.Equal(allowed, VariableNames.Check(name) is null);
}
