using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Repositories;

namespace Slipway.Server.Git;

/// <summary>
/// Runs once at every start: a project created before repository addresses were checked may have kept a credential in
/// its address (<c>https://user:password@host/...</c>), shown to every viewer and kept in clear in its mirror's git
/// config. Each such project is fixed: the credential is stored encrypted (<see cref="GitCredentials"/>), the mirror's
/// remote and then the stored address are rewritten without it, and the change is audited as the system. The mirror
/// goes first, so a failure in between leaves the stored address with its credential and the next start repeats the fix.
/// </summary>
public static class RepositoryAddressRepair
{
    public static async Task RunAsync(IServiceProvider services, ILogger log)
    {
        var projects = services.GetRequiredService<ProjectStore>();
        foreach (var project in await projects.ListAsync())
        {
            RepositoryAddress address;
            try { address = RepositoryUrl.Parse(project.RepoUrl); }
            catch (RepositoryUrlException) { continue; } // not an http(s) address with a credential; nothing to take out
            if (!address.HasCredential) continue;
            try { await RepairAsync(services, project, address); }
            catch (Exception e) when (e is GitException or IOException or InvalidOperationException)
            {
                log.LogError("could not take the credential out of the repository address of {Project}: {Error}", project.Name, RepositoryUrl.Redact(e.Message));
            }
        }
    }

    private static async Task RepairAsync(IServiceProvider services, ProjectRow project, RepositoryAddress address)
    {
        var mirror = services.GetRequiredService<MirrorDirectory>().For(project.Name);
        if (Directory.Exists(mirror.Path))
            await GitCli.OutputAsync(mirror.Path, ["config", "remote.origin.url", address.Url], services.GetRequiredService<Hosting.ServerOptions>().GitTimeout);
        // A token given as the user name is stored with no user name (see GitCredentials).
        var (username, secret) = address.Password is { } password ? (address.Username, password) : (null, address.Username!);
        await services.GetRequiredService<ProjectStore>().ReplaceRepoUrlAsync(project.Id, address.Url, username,
            services.GetRequiredService<GitCredentials>().Protect(secret));
        await services.GetRequiredService<AuditLog>().RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.RepoCredential,
            $"project:{project.Name}", AuditOutcomes.Succeeded,
            "the credential in the stored repository address was taken out of it and stored encrypted" +
            (username is null ? " (a token given as the user name)" : $" (user '{username}')") + $"; address now {address.Url}"));
    }
}
