using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Checks a username and password (or, for the web UI's first sign-in, an API token) and opens a session or
/// issues a token. Every attempt is audited with its outcome; failures feed the throttle. The messages never
/// say whether the username exists.
/// </summary>
public sealed class SignInService(UserStore users, CredentialStore credentials,
    SignInThrottle throttle, AuditLog audit, ServerOptions options, TimeProvider clock, InitialAdminTokenFile initialToken)
{
    public const string Refused = "wrong username or password";

    public async Task<SignInResult> CheckPasswordAsync(HttpContext context, string username, string password)
    {
        username = username.Trim();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (await throttle.TryBeginAsync(username, address) is { } wait)
        {
            await audit.RecordAsync(Entry(context, username, AuditOutcomes.Denied, $"throttled: too many failed sign-ins; retry in {wait.TotalSeconds:0} s"));
            return SignInResult.Throttled(wait);
        }
        var user = username.Length is > 0 and <= 64 ? await users.FindAsync(username) : null;
        var ok = Passwords.Verify(user?.PasswordHash, password ?? "") && user is not null;
        if (!ok || user!.IsDisabled)
        {
            var why = user is null ? "unknown user" : user.IsDisabled ? "account disabled" : user.PasswordHash is null ? "account has no password" : "wrong password";
            await audit.RecordAsync(Entry(context, username, AuditOutcomes.Denied, why));
            return SignInResult.Fail(Refused);
        }
        await throttle.SucceededAsync(username, address);
        return SignInResult.Success(user);
    }

    /// <summary>The web UI's sign-in with an API token (the first admin has no password yet).</summary>
    public async Task<SignInResult> CheckTokenAsync(HttpContext context, string token)
    {
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        // Keyed by address only: a shared "token" account would let anyone lock every browser out of token sign-in.
        if (await throttle.TryBeginTokenAsync(address) is { } wait)
        {
            await audit.RecordAsync(Entry(context, "-", AuditOutcomes.Denied, "throttled token sign-in"));
            return SignInResult.Throttled(wait);
        }
        var found = token.Length is > 0 and < 200 && token.StartsWith(Tokens.UserPrefix, StringComparison.Ordinal)
            ? await credentials.FindTokenAsync(Tokens.Hash(token), Now()) : null;
        if (found is not { } t)
        {
            await audit.RecordAsync(Entry(context, "-", AuditOutcomes.Denied, "invalid API token"));
            return SignInResult.Fail("that token is not valid");
        }
        // A session carries no scope: a scoped token opening one would shed its scope.
        if (t.Token.Scope is not null)
        {
            await audit.RecordAsync(Entry(context, t.User.Username, AuditOutcomes.Denied, $"token #{t.Token.Id} is scoped; a web session would be wider"));
            return SignInResult.Fail("a scoped token cannot open a web session; use an unscoped token or your password");
        }
        await throttle.SucceededTokenAsync(address);
        await initialToken.NoteSignInAsync(Tokens.Hash(token), t.User.Username);
        return SignInResult.Success(t.User, t.Token.Id);
    }

    /// <summary>Opens a web session for a checked user; returns the session id for the HttpOnly cookie.</summary>
    public async Task<string> OpenSessionAsync(HttpContext context, UserRow user, string method, long? tokenId = null)
    {
        var session = Tokens.New(Tokens.SessionPrefix);
        var now = Now();
        await credentials.CreateSessionAsync(user.Id, Tokens.Hash(session), context.Connection.RemoteIpAddress?.ToString(), now,
            now + (long)options.SessionLifetime.TotalMilliseconds, tokenId);
        await audit.RecordAsync(Entry(context, user.Username, AuditOutcomes.Succeeded, $"web session opened ({method})"));
        return session;
    }

    /// <summary>Issues an API token for a checked user (`slipway login`).</summary>
    public async Task<(string Token, long Id, long ExpiresAt)> IssueTokenAsync(HttpContext context, UserRow user, string name, int days)
    {
        var token = Tokens.New(Tokens.UserPrefix);
        var now = Now();
        var expires = now + (long)TimeSpan.FromDays(days).TotalMilliseconds;
        var id = await credentials.CreateTokenAsync(user.Id, name, Tokens.Hash(token), expires, null, now)
                 ?? throw new ArgumentException($"you already have an active token named '{name}'; revoke it or pick another name");
        await audit.RecordAsync(Entry(context, user.Username, AuditOutcomes.Succeeded, $"signed in with a password; API token #{id} '{name}' issued, expires in {days} day{(days == 1 ? "" : "s")}"));
        return (token, id, expires);
    }

    private AuditRecord Entry(HttpContext context, string username, string outcome, string detail) =>
        new(AuditActorKinds.User, username, context.Connection.RemoteIpAddress?.ToString(), Actions.SessionCreate, $"{context.Request.Method} {context.Request.Path.Value}",
            outcome, detail, context.TraceIdentifier);

    private long Now() => clock.GetUtcNow().ToUnixTimeMilliseconds();
}

/// <param name="TokenId">The API token that was checked (token sign-in): the session it opens ends with it.</param>
public sealed record SignInResult(UserRow? User, string? Error, TimeSpan? RetryAfter, long? TokenId = null)
{
    public static SignInResult Success(UserRow user, long? tokenId = null) => new(user, null, null, tokenId);
    public static SignInResult Fail(string error) => new(null, error, null);
    public static SignInResult Throttled(TimeSpan wait)
    {
        var seconds = (long)Math.Ceiling(wait.TotalSeconds);
        return new(null, $"too many failed sign-ins; try again in {seconds} second{(seconds == 1 ? "" : "s")}", wait);
    }
}
