namespace Slipway.Core.Checks;

/// <summary>
/// What an HTTP check may be: an absolute http or https address without credentials in it (user information would reach
/// every log line of the HTTP stack; put a token in the path of a private health endpoint instead, which only check.manage
/// holders see whole), an expected status,
/// optional text the body must contain, and a timeout of at most <see cref="MaxTimeout"/>.
/// </summary>
public static class HttpCheckRules
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultWatch = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan MaxWatch = TimeSpan.FromDays(1);
    public const int MaxBodyText = 500;
    public const int MaxUrlLength = 2000;

    /// <summary>Null when the check is well-formed, else why not.</summary>
    public static string? Check(string? url, int expectStatus, string? bodyContains, TimeSpan timeout, TimeSpan watch)
    {
        if (CheckUrl(url, "a check's url") is { } error) return error;
        if (expectStatus is < 100 or > 599) return "the expected status must be an HTTP status between 100 and 599";
        if (bodyContains is { Length: > MaxBodyText }) return $"the expected body text is limited to {MaxBodyText} characters";
        if (bodyContains is not null && bodyContains.Any(char.IsControl)) return "the expected body text contains a control character";
        if (timeout <= TimeSpan.Zero || timeout > MaxTimeout) return $"the timeout must be more than 0 and at most {MaxTimeout.TotalSeconds:0} s";
        if (watch < TimeSpan.Zero || watch > MaxWatch) return "the watch window must be between 0 (none) and 1 day";
        return null;
    }

    /// <summary>Null when <paramref name="url"/> is an absolute http(s) address without user information, else why not.</summary>
    public static string? CheckUrl(string? url, string what)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength) return $"{what} must be an http or https address of at most {MaxUrlLength} characters";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            return $"{what} must be an absolute http or https address";
        if (uri.UserInfo.Length > 0) return $"{what} must not carry a user name or password";
        return url.Any(char.IsControl) ? $"{what} contains a control character" : null;
    }

    /// <summary>
    /// An address as it may be shown and logged: scheme, host and port only. Webhook addresses (Slack's above all) carry
    /// their secret in the path, and a health URL may carry a token in its query.
    /// </summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : "(invalid address)";
}
