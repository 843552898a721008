using System.Text.Json;
using Slipway.Core.Checks;

namespace Slipway.Core.Tests.Checks;

public class AlertPayloadTests
{
    private static readonly CheckAlert Alert = new(CheckVerdict.RolledBack, "shop", "production", 3, "#3 (http https://shop.example/…)", "1.0.2", 12,
        "status 500, expected 200", new DateTimeOffset(2026, 3, 28, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Json_CarriesEveryField()
    {
        using var doc = JsonDocument.Parse(AlertPayload.Body(AlertPayload.Json, Alert));
        var root = doc.RootElement;
        Assert.Equal(("check.rollback", "shop", "production", "1.0.2", 12L), (root.GetProperty("event").GetString(), root.GetProperty("project").GetString(),
            root.GetProperty("environment").GetString(), root.GetProperty("release").GetString(), root.GetProperty("deployment").GetInt64()));
        Assert.Equal("status 500, expected 200", root.GetProperty("detail").GetString());
    }

    [Fact]
    public void Slack_IsOneLineOfText()
    {
        using var doc = JsonDocument.Parse(AlertPayload.Body(AlertPayload.Slack, Alert));
        Assert.Equal("[shop/production] check #3 (http https://shop.example/…) failed inside the watch window: rolling back automatically " +
                     "(release 1.0.2, deployment #12): status 500, expected 200", doc.RootElement.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("https://hooks.slack.com/services/T0/B0/SECRET", "https://hooks.slack.com/…")]
    [InlineData("http://127.0.0.1:8080/health?token=abc", "http://127.0.0.1:8080/…")]
    public void Redact_KeepsSchemeHostAndPortOnly(string url, string shown) => Assert.Equal(shown, HttpCheckRules.Redact(url));

    [Theory]
    [InlineData("https://shop.example/health", null)]
    [InlineData("ftp://shop.example/", "http or https")]
    [InlineData("/health", "http or https")]
    [InlineData("https://user:pw@shop.example/", "user name or password")]
    public void CheckUrl_AcceptsHttpAndHttpsOnly(string url, string? error)
    {
        var message = HttpCheckRules.CheckUrl(url, "a check's url");
        if (error is null) Assert.Null(message);
        else Assert.Contains(error, message);
    }
}
