using System.Text.RegularExpressions;

namespace Slipway.Core.Repositories;

/// <summary>How git would reach a repository address, among the transports Slipway accepts.</summary>
public enum RepositoryTransport
{
    Https,
    Http,
    /// <summary><c>ssh://host/path</c> or scp-like <c>user@host:path</c>.</summary>
    Ssh,
    /// <summary>The unauthenticated <c>git://</c> protocol.</summary>
    Git,
    /// <summary>A path on the server's disk, given as a path or a <c>file://</c> URL (admins only; never inside the data folder).</summary>
    Local,
}

/// <summary>
/// A repository address as Slipway stores it: <see cref="Url"/> never holds a secret (http(s) credentials are split
/// out into <see cref="Username"/>/<see cref="Password"/>; an ssh user name, which is not a secret, stays in it).
/// </summary>
/// <param name="LocalPath">For <see cref="RepositoryTransport.Local"/>: the absolute path on the server's disk.</param>
/// <param name="Username">The http(s) user name given in the address, or null. With no password it is a token (<c>https://TOKEN@host/...</c>).</param>
/// <param name="Password">The http(s) password given in the address, or null.</param>
public sealed record RepositoryAddress(RepositoryTransport Transport, string Url, string? LocalPath, string? Username, string? Password)
{
    public bool HasCredential => Username is not null;
}

/// <summary>
/// Checks a repository address before git ever sees it. Git itself would run remote helpers (<c>ext::sh -c ...</c>
/// executes a command, <c>fd::17</c> waits on a file descriptor forever) and any transport it knows; Slipway accepts
/// only https, http, ssh (URL or scp-like), git and local paths, and refuses everything else at once with a reason.
/// Credentials in an http(s) address are split out so the stored address can be shown to every viewer.
/// Pure: no I/O; the server decides who may use a local path and which paths are off limits.
/// </summary>
public static partial class RepositoryUrl
{
    public const int MaxLength = 2048;

    /// <summary>The address, or a <see cref="RepositoryUrlException"/> whose message says what is wrong (never echoing a password).</summary>
    public static RepositoryAddress Parse(string? text)
    {
        var url = (text ?? "").Trim();
        if (url.Length == 0) throw new RepositoryUrlException("the repository address is empty");
        if (url.Length > MaxLength) throw new RepositoryUrlException($"the repository address is longer than {MaxLength} characters");
        if (url.Any(char.IsControl)) throw new RepositoryUrlException("the repository address contains a control character");
        if (url.StartsWith('-')) throw new RepositoryUrlException("a repository address cannot start with '-'");
        if (RemoteHelper().Match(url) is { Success: true } helper)
            throw new RepositoryUrlException($"the transport '{helper.Groups["name"].Value}::' (a git remote helper) is not allowed; use https, http, ssh or git");

        if (SchemeUrl().Match(url) is { Success: true } m)
            return FromUrl(m.Groups["scheme"].Value.ToLowerInvariant(), m.Groups["authority"].Value, m.Groups["rest"].Value);

        // Git's own rule: a colon before the first slash makes it scp-like ssh ([user@]host:path); otherwise a path.
        var colon = url.IndexOf(':');
        var slash = url.IndexOf('/');
        if (colon > 0 && (slash < 0 || colon < slash))
        {
            if (ScpPasswordLike().IsMatch(url))
                throw new RepositoryUrlException("a password in an ssh address is not allowed; give the server's user an ssh key instead");
            if (!ScpLike().IsMatch(url))
                throw new RepositoryUrlException("not a valid ssh address: use user@host:path or ssh://user@host/path");
            return new RepositoryAddress(RepositoryTransport.Ssh, url, null, null, null);
        }
        if (!url.StartsWith('/'))
            throw new RepositoryUrlException("a local repository path must be absolute (/srv/git/shop.git or file:///srv/git/shop.git), or use an https, http, ssh or git URL");
        return new RepositoryAddress(RepositoryTransport.Local, url, url, null, null);
    }

    private static RepositoryAddress FromUrl(string scheme, string authority, string rest)
    {
        // The user information is everything before the last '@' of the authority (a password may hold '@' unescaped).
        var at = authority.LastIndexOf('@');
        var userInfo = at < 0 ? null : authority[..at];
        var host = at < 0 ? authority : authority[(at + 1)..];
        // A host that is not a name, an address or [IPv6] with an optional port is refused without being echoed: it may be
        // the start of a credential whose unescaped '#', '?' or '/' cut the address short.
        // A host that looks valid only because part of a credential was read as it ("user:1234#rest@host",
        // "ci@corp:1234/abc@github.com/r"): the '@' that ends the credential then sits after the authority. Any '@' there is
        // refused (a real one in a path is written %40), so no part of a password is ever kept in the address.
        if (scheme != "file" && (!Host().IsMatch(host) || rest.Contains('@')))
            throw new RepositoryUrlException($"the {scheme}:// address has no valid host (escape '/', '?', '#' and '@' in a user name or password as %2F, %3F, %23, %40)");
        switch (scheme)
        {
            case "https" or "http":
            {
                var transport = scheme == "https" ? RepositoryTransport.Https : RepositoryTransport.Http;
                var clean = $"{scheme}://{host}{rest}";
                if (userInfo is null) return new RepositoryAddress(transport, clean, null, null, null);
                var colon = userInfo.IndexOf(':');
                var username = Unescape(colon < 0 ? userInfo : userInfo[..colon]);
                var password = colon < 0 ? null : Unescape(userInfo[(colon + 1)..]);
                if (username.Length == 0 && string.IsNullOrEmpty(password)) return new RepositoryAddress(transport, clean, null, null, null);
                if (username.Length == 0) throw new RepositoryUrlException($"the {scheme} address has a password but no user name");
                if (username.Any(char.IsControl) || (password?.Any(char.IsControl) ?? false))
                    throw new RepositoryUrlException("the credential in the repository address contains a control character");
                return new RepositoryAddress(transport, clean, null, username, string.IsNullOrEmpty(password) ? null : password);
            }
            case "ssh" or "git+ssh" or "ssh+git":
                if (userInfo is not null && userInfo.Contains(':'))
                    throw new RepositoryUrlException("a password in an ssh address is not allowed; give the server's user an ssh key instead");
                return new RepositoryAddress(RepositoryTransport.Ssh, $"{scheme}://{authority}{rest}", null, null, null);
            case "git":
                if (userInfo is not null) throw new RepositoryUrlException("the git:// protocol takes no credential; use https with a credential instead");
                return new RepositoryAddress(RepositoryTransport.Git, $"git://{host}{rest}", null, null, null);
            case "file":
            {
                if (userInfo is not null || (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase)))
                    throw new RepositoryUrlException("a file:// address names a path on the server: file:///path");
                var path = Unescape(rest.Split('?', '#')[0]);
                if (!path.StartsWith('/')) throw new RepositoryUrlException("a file:// address needs an absolute path: file:///path");
                return new RepositoryAddress(RepositoryTransport.Local, $"file://{path}", path, null, null);
            }
            default:
                throw new RepositoryUrlException($"the transport '{scheme}://' is not supported; use https, http, ssh or git");
        }
    }

    /// <summary>
    /// True when git would read <paramref name="url"/> from the local disk (a path or file://), the one case where git needs the
    /// <c>file</c> transport. Lenient on purpose: it also answers for addresses stored before they were checked.
    /// </summary>
    public static bool IsLocal(string url)
    {
        if (url.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) return true;
        if (url.Contains("://", StringComparison.Ordinal) || RemoteHelper().IsMatch(url)) return false;
        var colon = url.IndexOf(':');
        var slash = url.IndexOf('/');
        return !(colon > 0 && (slash < 0 || colon < slash)); // scp-like ssh otherwise
    }

    /// <summary>
    /// The text with the user information of every URL in it replaced by <c>***</c> (<c>https://***@host/...</c>), for
    /// messages that may echo an address: git's errors, logs. The stored address never needs this (it holds no secret).
    /// </summary>
    public static string Redact(string text) => UserInfoInText().Replace(text, "${scheme}***@");

    private static string Unescape(string text)
    {
        try { return Uri.UnescapeDataString(text); }
        catch (UriFormatException) { return text; }
    }

    [GeneratedRegex(@"^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex Host();

    [GeneratedRegex(@"^(?<name>[A-Za-z][A-Za-z0-9+.-]*)::")]
    private static partial Regex RemoteHelper();

    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?<authority>[^/?#]*)(?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex SchemeUrl();

    /// <summary>[user@]host:path with host a name, an address or [IPv6].</summary>
    [GeneratedRegex(@"^(?:[^@/:\s]+@)?(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):")]
    private static partial Regex ScpLike();

    /// <summary>user:password@host:path — git would read "user" as the host; what was meant is a password.</summary>
    [GeneratedRegex(@"^[^@/:\s]+:[^/@\s]*@[^/:\s]+:")]
    private static partial Regex ScpPasswordLike();

    /// <summary>scheme://userinfo@ — greedy to the last '@' before the path, since a password may hold an unescaped '@'.</summary>
    [GeneratedRegex(@"(?<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s?#]+@")]
    private static partial Regex UserInfoInText();
}

/// <summary>A repository address Slipway refuses; the message says why and never contains a password.</summary>
public sealed class RepositoryUrlException(string message) : ArgumentException(message);
