using Slipway.Core.Deployments.Rollout;

namespace Slipway.Core.Tests.Deployments.Rollout;

public sealed class TargetRulesTests
{
    [Theory]
    [InlineData("web-1", true)]
    [InlineData("web_1.eu", true)]
    [InlineData("web;reboot", false)]
    [InlineData("$(id)", false)]
    [InlineData("-web", false)]
    [InlineData("web 1", false)]
    [InlineData("", false)]
    public void Names(string name, bool valid) => Assert.Equal(valid, TargetRules.CheckName(name) is null);

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("web1.internal.example", true)]
    [InlineData("host;id", false)]
    [InlineData("-oProxyCommand=x", false)]
    [InlineData("a b", false)]
    public void Hosts(string host, bool valid) => Assert.Equal(valid, TargetRules.CheckHost(host) is null);

    [Theory]
    [InlineData("app/web-1", true)]
    [InlineData("app", false)]
    [InlineData("app/web;1", false)]
    [InlineData("app/web 1", false)]
    [InlineData("a/b/c", false)]
    public void BalancerServers(string value, bool valid) => Assert.Equal(valid, TargetRules.CheckBalancerServer(value) is null);

    [Theory]
    [InlineData("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", true)]
    [InlineData("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", false)]
    [InlineData("MD5:aa:bb", false)]
    [InlineData("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", false)]
    public void Fingerprints(string value, bool valid) => Assert.Equal(valid, TargetRules.CheckFingerprint(value) is null);

    [Fact]
    public void Variables_ExpandOnlySlipwayValues()
    {
        var values = new Dictionary<string, string> { ["SLIPWAY_TARGET_HOST"] = "10.0.0.5", ["SLIPWAY_RELEASE"] = "1.2.3" };
        Assert.Equal("http://10.0.0.5:8080/v/1.2.3", RolloutVariables.Expand("http://$SLIPWAY_TARGET_HOST:8080/v/${SLIPWAY_RELEASE}", values, out var error));
        Assert.Null(error);
        Assert.Null(RolloutVariables.Expand("http://$HOME/", values, out error));
        Assert.Contains("'HOME' is not a value Slipway sets", error);
    }
}
