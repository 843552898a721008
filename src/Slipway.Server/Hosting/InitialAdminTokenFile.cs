using Microsoft.Extensions.Logging;
using Slipway.Core.Audit;

namespace Slipway.Server.Hosting;

/// <summary>
/// The one-time file DATA/initial-admin-token: deleted the first time the admin signs in with the token in it (an API
/// call or the web sign-in), so a copy of the token stays on the server's disk only until someone has taken it. The
/// token itself stays valid: it is the admin's token until revoked (security.md, rotation).
/// </summary>
public sealed class InitialAdminTokenFile(ServerOptions options, Audit.AuditLog audit, ILogger<InitialAdminTokenFile> log)
{
    private string? _tokenHash;

    private string FilePath => Path.Combine(options.FullDataDirectory, Bootstrap.TokenFile);

    /// <summary>Remembers the hash of the token in the file, if the file is there (at start, after the bootstrap).</summary>
    public void Load()
    {
        try
        {
            var token = File.Exists(FilePath) ? File.ReadLines(FilePath).FirstOrDefault()?.Trim() : null;
            _tokenHash = string.IsNullOrEmpty(token) ? null : Tokens.Hash(token);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("could not read {Path}: {Error}", FilePath, e.Message);
        }
    }

    /// <summary>Called with the hash of every user token that authenticated; deletes the file the first time it is its token.</summary>
    public async Task NoteSignInAsync(string tokenHash, string username)
    {
        var expected = _tokenHash;
        if (expected is null || !string.Equals(expected, tokenHash, StringComparison.Ordinal)) return;
        if (Interlocked.CompareExchange(ref _tokenHash, null, expected) != expected) return; // another request got here first
        try { File.Delete(FilePath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("could not delete {Path} after the first sign-in: {Error}; delete it by hand", FilePath, e.Message);
            return;
        }
        log.LogInformation("deleted {Path}: {User} signed in with the initial admin token", FilePath, username);
        await audit.RecordAsync(new Audit.AuditRecord(AuditActorKinds.System, "slipway", null, Core.Access.Actions.UserManage, "user:" + username,
            AuditOutcomes.Succeeded, "initial admin token file deleted after its first use"));
    }
}
