using System.Diagnostics;
using System.Text;
using Slipway.Core.Pipelines;

namespace Slipway.Core.Tests.Pipelines;

/// <summary>Hostile and random input: Parse must stay fast, bounded and never throw.</summary>
public class PipelineSafetyTests
{
    [Fact]
    public void BillionLaughs_IsRefusedQuickly()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
        {
            var prev = (char)(c - 1);
            yaml.Append($"{c}: &{c} [{string.Join(",", Enumerable.Repeat("*" + prev, 9))}]\n");
        }
        yaml.Append("stages: *i\n");
        var watch = Stopwatch.StartNew();
        var result = PipelineParser.Parse(yaml.ToString());
        watch.Stop();

        Assert.Null(result.Pipeline);
        var error = Assert.Single(result.Errors);
        Assert.Contains($"document too complex (alias expansion exceeds {PipelineLimits.MaxNodes} nodes)", error.Message);
        Assert.Equal(5, error.Line);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void DeepNesting_IsRefused()
    {
        var yaml = "stages: " + new string('[', 100) + new string(']', 100) + "\n";
        var error = Assert.Single(PipelineParser.Parse(yaml).Errors);
        Assert.Contains($"nested too deeply (more than {PipelineLimits.MaxDepth} levels)", error.Message);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void DeepNestingThroughAliases_IsRefused()
    {
        var yaml = new StringBuilder("a0: &a0 [x]\n");
        for (var i = 1; i <= 40; i++) yaml.Append($"a{i}: &a{i} [*a{i - 1}]\n");
        var error = Assert.Single(PipelineParser.Parse(yaml.ToString()).Errors);
        Assert.Contains("nested too deeply", error.Message);
    }

    [Fact]
    public void HugeFlowNesting_ReturnsQuickly()
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Single(PipelineParser.Parse(new string('[', 500_000)).Errors);
        Assert.Contains("nested too deeply", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void LongValues_AreShortenedInMessages()
    {
        var name = new string('n', 5000);
        var error = Assert.Single(PipelineParser.Parse(LintAssert.Base + $"        pool: {name}\n").Errors);
        Assert.Contains("(5000 characters)", error.Message);
        Assert.True(error.Message.Length < 300);
    }

    [Fact]
    public void FileOverOneMegabyte_IsRefusedBeforeParsing()
    {
        var yaml = "# " + new string('x', PipelineLimits.MaxFileBytes) + "\n";
        var error = Assert.Single(PipelineParser.Parse(yaml).Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.Contains("the limit is 1048576 bytes", error.Message);
    }

    [Fact]
    public void FileSize_IsMeasuredInUtf8Bytes()
    {
        // 600k characters of 'é' are 1.2 MB in UTF-8.
        var yaml = "# " + new string('é', 600_000);
        Assert.Contains("the limit is", Assert.Single(PipelineParser.Parse(yaml).Errors).Message);
    }

    [Fact]
    public void TruncatedVersionsOfTheExample_NeverThrow()
    {
        var text = PipelineModelTests.FullExample;
        for (var length = 0; length <= text.Length; length++)
            AssertWellFormed(PipelineParser.Parse(text[..length]));
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var random = new Random(12345);
        for (var i = 0; i < 400; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            AssertWellFormed(PipelineParser.Parse(Encoding.UTF8.GetString(bytes)));
        }
    }

    [Fact]
    public void RandomYamlishText_NeverThrows()
    {
        const string alphabet = "abc:-[]{}&*!|>'\"#%@`,?\t\n\n  ~0123 stages jobs name run ";
        var random = new Random(777);
        for (var i = 0; i < 800; i++)
        {
            var chars = new char[random.Next(0, 120)];
            for (var j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            AssertWellFormed(PipelineParser.Parse(new string(chars)));
        }
    }

    [Fact]
    public void MutatedExample_NeverThrows()
    {
        var text = PipelineModelTests.FullExample;
        var random = new Random(42);
        const string noise = ":-[]{}&*!|>'\"#\t\n ";
        for (var i = 0; i < 400; i++)
        {
            var chars = text.ToCharArray();
            for (var k = 0; k < 3; k++) chars[random.Next(chars.Length)] = noise[random.Next(noise.Length)];
            AssertWellFormed(PipelineParser.Parse(new string(chars)));
        }
    }

    private static void AssertWellFormed(PipelineParseResult result)
    {
        Assert.True(result.Pipeline is null != (result.Errors.Count == 0));
        foreach (var e in result.Errors)
        {
            Assert.True(e.Line >= 1 && e.Column >= 1, e.ToString());
            Assert.DoesNotContain("internal error", e.Message);
        }
        var sorted = result.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column);
        Assert.Equal(sorted, result.Errors);
    }
}
