using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Slipway.Server.Secrets;

/// <summary>
/// Encrypts secret variable values at rest with ASP.NET Core Data Protection (authenticated encryption;
/// the key ring lives in DATA/keys and rotates every 90 days, old keys keep decrypting). The purpose string
/// isolates these ciphertexts from cookies and anti-forgery tokens made with the same key ring; raise its
/// version only together with a re-encryption of every stored secret. Thread-safe.
/// </summary>
public sealed class SecretVault(IDataProtectionProvider provider)
{
    public const string Purpose = "Slipway.Secrets.v1";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    public string Protect(string value) => _protector.Protect(value);

    /// <summary>The clear value, or null when the ciphertext cannot be decrypted (key ring lost or replaced).</summary>
    public string? TryUnprotect(string ciphertext)
    {
        try { return _protector.Unprotect(ciphertext); }
        catch (CryptographicException) { return null; }
    }
}
