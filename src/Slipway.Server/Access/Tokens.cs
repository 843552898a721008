using System.Security.Cryptography;
using System.Text;

namespace Slipway.Server.Access;

/// <summary>
/// Bearer secrets: 32 random bytes, shown once, stored as SHA-256. A fast hash is right here (unlike
/// passwords): the secret has 256 bits of entropy, so there is nothing to brute-force.
/// Prefixes tell the kinds apart in logs and support tickets without revealing anything.
/// </summary>
public static class Tokens
{
    public const string UserPrefix = "slp_";
    public const string AgentPrefix = "slpa_";
    public const string RegistrationPrefix = "slpr_";
    /// <summary>Web session ids (only ever in the HttpOnly cookie, never accepted as a bearer token).</summary>
    public const string SessionPrefix = "slps_";

    public static string New(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
