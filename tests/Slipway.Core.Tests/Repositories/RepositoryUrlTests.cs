using Slipway.Core.Repositories;

namespace Slipway.Core.Tests.Repositories;

public class RepositoryUrlTests
{
    /// <summary>Accepted addresses: the transport, the address as stored (never a secret in it), the credential split out.</summary>
    public static TheoryData<string, RepositoryTransport, string, string?, string?> Accepted => new()
    {
        { "https://git.example.com/shop.git", RepositoryTransport.Https, "https://git.example.com/shop.git", null, null },
        { "  https://git.example.com/shop.git ", RepositoryTransport.Https, "https://git.example.com/shop.git", null, null },
        { "HTTPS://git.example.com/shop.git", RepositoryTransport.Https, "https://git.example.com/shop.git", null, null },
        { "http://user:pw@127.0.0.1:8080/repo.git", RepositoryTransport.Http, "http://127.0.0.1:8080/repo.git", "user", "pw" },
        { "https://bot:p%40ss%2Fw0rd@host/r.git", RepositoryTransport.Https, "https://host/r.git", "bot", "p@ss/w0rd" },
        { "https://bot:p@ss@host/r.git", RepositoryTransport.Https, "https://host/r.git", "bot", "p@ss" },
        { "https://ghp_TOKEN123@github.com/o/r.git", RepositoryTransport.Https, "https://github.com/o/r.git", "ghp_TOKEN123", null },
        { "https://user:@host/r.git", RepositoryTransport.Https, "https://host/r.git", "user", null },
        { "https://@host/r.git", RepositoryTransport.Https, "https://host/r.git", null, null },
        { "https://[::1]:8443/r.git", RepositoryTransport.Https, "https://[::1]:8443/r.git", null, null },
        { "ssh://git@host:2222/o/r.git", RepositoryTransport.Ssh, "ssh://git@host:2222/o/r.git", null, null },
        { "git+ssh://host/r.git", RepositoryTransport.Ssh, "git+ssh://host/r.git", null, null },
        { "git@github.com:owner/repo.git", RepositoryTransport.Ssh, "git@github.com:owner/repo.git", null, null },
        { "host:repo.git", RepositoryTransport.Ssh, "host:repo.git", null, null },
        { "git://git.example.com/r.git", RepositoryTransport.Git, "git://git.example.com/r.git", null, null },
        { "/srv/git/shop", RepositoryTransport.Local, "/srv/git/shop", null, null },
        { "file:///srv/git/shop", RepositoryTransport.Local, "file:///srv/git/shop", null, null },
        { "file://localhost/srv/git/a%20b", RepositoryTransport.Local, "file:///srv/git/a b", null, null },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Parse_AcceptsTheSupportedTransports_AndSplitsOutCredentials(string text, RepositoryTransport transport, string url, string? username, string? password)
    {
        var address = RepositoryUrl.Parse(text);

        Assert.Equal(transport, address.Transport);
        Assert.Equal(url, address.Url);
        Assert.Equal(username, address.Username);
        Assert.Equal(password, address.Password);
        Assert.Equal(username is not null, address.HasCredential);
    }

    [Fact]
    public void Parse_GivesTheLocalPath_OfPathsAndFileUrls()
    {
        Assert.Equal("/srv/git/shop", RepositoryUrl.Parse("/srv/git/shop").LocalPath);
        Assert.Equal("/srv/git/a b", RepositoryUrl.Parse("file:///srv/git/a%20b").LocalPath);
        Assert.Null(RepositoryUrl.Parse("https://host/r.git").LocalPath);
    }

    /// <summary>Refused addresses and a part of the reason; the reason never repeats a password.</summary>
    public static TheoryData<string, string> Refused => new()
    {
        { "", "empty" },
        { "   ", "empty" },
        { "ext::sh -c touch% /tmp/pwned", "'ext::' (a git remote helper) is not allowed" },
        { "fd::17", "'fd::' (a git remote helper) is not allowed" },
        { "fd::17/foo", "'fd::'" },
        { "transport::address", "'transport::'" },
        { "ftp://host/r.git", "'ftp://' is not supported" },
        { "rsync://host/r.git", "'rsync://' is not supported" },
        { "file://otherhost/srv/r", "file:///path" },
        { "file://relative", "file:///path" },
        { "ssh://user:hunter2@host/r.git", "a password in an ssh address is not allowed" },
        { "user:hunter2@host:r.git", "a password in an ssh address is not allowed" },
        { "git://user:hunter2@host/r.git", "takes no credential" },
        { "https://:hunter2@host/r.git", "a password but no user name" },
        { "https://u:hun#ter2@host/r.git", "no valid host" },
        { "https://user:1234#ter2@host/r.git", "no valid host" }, // digits read as a port: the '@' is in the fragment
        { "https://user:1234?ter2@host/r.git", "no valid host" },
        { "https://user:1234/ter2@host/r.git", "no valid host" },
        { "https://user:1234/a/ter2@host/r.git", "no valid host" },
        { "https://user:1234/a/b#ter2@host", "no valid host" },
        { "https://ci@corp.com:1234/ter2@github.com/org/r.git", "no valid host" }, // a user part does not make a later '@' safe
        { "https:///r.git", "no valid host" },
        { "relative/path", "must be absolute" },
        { "./repo", "must be absolute" },
        { "-uhack", "cannot start with '-'" },
        { "https://host/r.git\nx", "control character" },
        { "bad host:x", "not a valid ssh address" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Parse_RefusesOtherTransports_WithAReason_ThatNeverHoldsThePassword(string text, string reason)
    {
        var e = Assert.Throws<RepositoryUrlException>(() => RepositoryUrl.Parse(text));

        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.DoesNotContain("ter2", e.Message);
    }

    [Theory]
    [InlineData("/srv/r", true)]
    [InlineData("file:///srv/r", true)]
    [InlineData("relative/legacy", true)]
    [InlineData("https://host/r", false)]
    [InlineData("git@host:r.git", false)]
    [InlineData("ext::sh", false)]
    public void IsLocal_TellsPathsFromNetworkAddresses(string url, bool local) => Assert.Equal(local, RepositoryUrl.IsLocal(url));

    [Theory]
    [InlineData("fatal: unable to access 'https://bot:s3cret@host/r.git/': 403", "fatal: unable to access 'https://***@host/r.git/': 403")]
    [InlineData("remote http://u:p@ss@h:1/x and ssh://git@h/y", "remote http://***@h:1/x and ssh://***@h/y")]
    [InlineData("no address here: a@b", "no address here: a@b")]
    public void Redact_HidesTheUserInformationOfEveryUrl(string text, string expected) => Assert.Equal(expected, RepositoryUrl.Redact(text));
}
