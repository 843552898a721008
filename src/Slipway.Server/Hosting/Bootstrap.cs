using Microsoft.Extensions.Logging;

namespace Slipway.Server.Hosting;

/// <summary>
/// First start: creates the admin user with a one-time API token (random, or SLIPWAY_BOOTSTRAP_TOKEN),
/// prints it once and writes it to DATA/initial-admin-token with mode 0600. No default password exists.
/// </summary>
public static class Bootstrap
{
    public const string TokenFile = "initial-admin-token";

    public static async Task<string?> CreateAdminAsync(UserStore users, ServerOptions options, TimeProvider clock, ILogger log)
    {
        if (await users.AnyUserAsync()) return null;
        var token = options.BootstrapToken ?? Tokens.New(Tokens.UserPrefix);
        if (token.Length < 16) throw new InvalidOperationException("SLIPWAY_BOOTSTRAP_TOKEN must be at least 16 characters");
        if (token.StartsWith(Tokens.AgentPrefix) || token.StartsWith(Tokens.RegistrationPrefix))
            throw new InvalidOperationException($"SLIPWAY_BOOTSTRAP_TOKEN must not start with '{Tokens.AgentPrefix}' or '{Tokens.RegistrationPrefix}' (agent credential prefixes)");
        if (!await users.BootstrapAdminAsync("admin", Tokens.Hash(token), clock.GetUtcNow().ToUnixTimeMilliseconds())) return null;
        var path = Path.Combine(options.FullDataDirectory, TokenFile);
        await using (var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(file)) await writer.WriteLineAsync(token);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Deliberately on the console, not in the structured log: the token must not land in log storage.
        if (options.BootstrapToken is null)
            Console.WriteLine($"Created user 'admin'. Its API token (shown once, also in {path}):\n  {token}");
        log.LogInformation("created the initial admin user; token written to {Path}", path);
        return token;
    }
}
