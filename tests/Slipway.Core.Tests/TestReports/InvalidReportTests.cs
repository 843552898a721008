using Slipway.Core.TestReports;

namespace Slipway.Core.Tests.TestReports;

public class InvalidReportTests
{
    [Theory]
    [InlineData("")]
    [InlineData("not xml at all")]
    [InlineData("<testsuite><testcase name='a'></testsuite>")]
    [InlineData("{\"tests\": 3}")]
    public void Malformed_xml_gives_an_error_naming_the_file(string content)
    {
        var result = TestReportParser.Parse(content, "broken.xml");

        Assert.False(result.IsSuccess);
        Assert.Contains("broken.xml", result.Error);
    }

    [Fact]
    public void Unknown_root_element_gives_an_error()
    {
        var result = TestReportParser.Parse("<coverage line-rate='0.9'/>", "coverage.xml");

        Assert.False(result.IsSuccess);
        Assert.Contains("coverage", result.Error);
    }

    [Fact]
    public void External_entities_are_never_resolved()
    {
        // If the parser resolved the entity, the secret file content would end up in the failure message.
        using var secret = new TempFile("top-secret-value");
        var xml = $"""
            <?xml version="1.0"?>
            <!DOCTYPE testsuite [ <!ENTITY xxe SYSTEM "file://{secret.Path}"> ]>
            <testsuite><testcase classname="c" name="n"><failure>&xxe;</failure></testcase></testsuite>
            """;

        var result = TestReportParser.Parse(xml, "evil.xml");

        Assert.False(result.IsSuccess);
        Assert.DoesNotContain("top-secret-value", result.Error);
    }

    [Fact]
    public void Entity_expansion_bomb_is_rejected()
    {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            ]>
            <testsuite><testcase name="n"><failure>&lol3;</failure></testcase></testsuite>
            """;

        Assert.False(TestReportParser.Parse(xml, "bomb.xml").IsSuccess);
    }

    private sealed class TempFile : IDisposable
    {
        public TempFile(string content)
        {
            Path = System.IO.Path.GetTempFileName();
            File.WriteAllText(Path, content);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
