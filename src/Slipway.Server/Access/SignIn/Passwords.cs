using Microsoft.AspNetCore.Identity;

namespace Slipway.Server.Access.SignIn;

/// <summary>
/// Password hashing with ASP.NET Core Identity's hasher (PBKDF2-HMAC-SHA512, 100 000 iterations, 128-bit
/// salt per password, format-versioned so the work factor can be raised later). Thread-safe.
/// </summary>
public static class Passwords
{
    public const int MinLength = 12;
    public const int MaxLength = 256;
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object Nobody = new();

    // Verified when the username is unknown, so a wrong username takes as long as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword(Nobody, "not-a-password-of-anyone");

    public static string Hash(string password) => Hasher.HashPassword(Nobody, password);

    public static bool Verify(string? hash, string password)
    {
        var result = Hasher.VerifyHashedPassword(Nobody, hash ?? DummyHash, password);
        return hash is not null && result is PasswordVerificationResult.Success or PasswordVerificationResult.SuccessRehashNeeded;
    }

    /// <summary>Throws <see cref="ArgumentException"/> with the reason when a new password is not acceptable.</summary>
    public static void CheckAcceptable(string? password, string username)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinLength)
            throw new ArgumentException($"a password needs at least {MinLength} characters");
        if (password.Length > MaxLength) throw new ArgumentException($"a password has at most {MaxLength} characters");
        if (password.Contains(username, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException("a password must not contain the username");
        if (password.Distinct().Count() < 5) throw new ArgumentException("a password needs at least 5 different characters");
    }
}
