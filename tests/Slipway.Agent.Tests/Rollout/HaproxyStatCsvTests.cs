using Slipway.Agent.Execution.Rollout;

namespace Slipway.Agent.Tests.Rollout;

public sealed class HaproxyStatCsvTests
{
    // The first columns of HAProxy 2.6's header; real answers have ~100 columns, order fixed, names authoritative.
    private const string Header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,\n";

    [Fact]
    public void ServerRows_AreParsedByColumnName_AndFrontendAndBackendRowsAreSkipped()
    {
        var text = Header +
            "fe_app,FRONTEND,,,3,10,4096,100,1,2,0,0,0,,,,,OPEN,,\n" +
            "app,h1,0,0,2,5,,50,1,2,,0,,0,0,0,0,UP,1,\n" +
            "app,h2,0,0,0,5,,50,1,2,,0,,0,0,0,0,DRAIN,1,\n" +
            "app,h3,0,0,,5,,50,1,2,,0,,0,0,0,0,UP 1/3,1,\n" +
            "app,h4,0,0,0,5,,50,1,2,,0,,0,0,0,0,no check,1,\n" +
            "app,BACKEND,0,0,2,5,,50,1,2,,0,,0,0,0,0,UP,2,\n\n";
        var rows = HaproxyStatCsv.Parse(text);
        Assert.Equal(
            [new("app", "h1", "UP", 2), new("app", "h2", "DRAIN", 0), new("app", "h3", "UP 1/3", 0), new HaproxyServerStat("app", "h4", "no check", 0)],
            rows);
    }

    [Fact]
    public void ColumnsAreFoundByName_NotPosition()
    {
        var rows = HaproxyStatCsv.Parse("# status,scur,svname,pxname\nMAINT,7,web1,be_web\n");
        Assert.Equal([new HaproxyServerStat("be_web", "web1", "MAINT", 7)], rows);
    }

    [Fact]
    public void AHeaderOnly_IsNoServers() => Assert.Empty(HaproxyStatCsv.Parse(Header));

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("Unknown command. Please enter one of the following commands only :\n  help\n")]
    [InlineData("pxname,svname,scur,status\napp,h1,0,UP\n")]           // no '# ' header
    [InlineData("# pxname,svname,status\napp,h1,UP\n")]                // no scur column
    [InlineData("# pxname,svname,scur,status,\napp,h1,0\n")]          // truncated row
    [InlineData("# pxname,svname,scur,status,\napp,h1,many,UP,\n")]   // scur not a number
    public void Garbage_IsAFormatException(string text) => Assert.Throws<FormatException>(() => HaproxyStatCsv.Parse(text));
}
