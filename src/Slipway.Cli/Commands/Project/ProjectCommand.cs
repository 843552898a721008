using System.CommandLine;
using Slipway.Cli.Output;

namespace Slipway.Cli.Commands.Project;

/// <summary>
/// <c>slipway project create NAME --repo URL [--branch B]</c>, <c>slipway project list</c>,
/// <c>slipway project set-key NAME [PREFIX] [--pattern REGEX]</c> (the work item key prefix: SHOP for SHOP-42, and the
/// pattern that finds keys in branch names and commit messages).
/// </summary>
public static class ProjectCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Project name" };
        var repo = new Option<string?>("--repo") { Description = "Anything git can fetch: path, file://, ssh://, https://" };
        var branch = new Option<string?>("--branch") { Description = "Default branch (default: main, else the repository's)" };
        var hosted = new Option<bool>("--hosted") { Description = "Slipway hosts the repository: clone and push at /git/NAME.git with an API token as password" };
        var gitUsername = new Option<string?>("--git-username") { Description = "For a repository that needs a credential: its username (the password is asked for, or read with --password-stdin)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the git password from the first line of standard input" };
        var create = new Command("create", "Create a project from a git repository, or hosted by Slipway (--hosted)") { name, repo, branch, hosted, gitUsername, passwordStdin, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var isHosted = result.GetValue(hosted);
            if (isHosted == (result.GetValue(repo) is not null))
            {
                Console.Error.WriteLine("error: give either --repo URL or --hosted");
                return 2;
            }
            var username = result.GetValue(gitUsername);
            var password = username is null ? null : await GitPasswordAsync(result.GetValue(passwordStdin));
            if (username is not null && password is null) return 2;
            var created = isHosted
                ? await client.CreateHostedProjectAsync(result.GetValue(name)!, ct)
                : username is null
                    ? await client.CreateProjectAsync(result.GetValue(name)!, result.GetValue(repo)!, result.GetValue(branch), ct)
                    : await client.CreateProjectAsync(result.GetValue(name)!, result.GetValue(repo)!, result.GetValue(branch), username, password!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(created); return 0; }
            Console.WriteLine($"created project {created.Name} (default branch {created.DefaultBranch})");
            // A hosted repository starts runs on each push itself: it needs no webhook, so none is offered.
            if (isHosted)
                Console.WriteLine($"clone: git clone {CliContext.ServerUrl(result).TrimEnd('/')}/git/{created.Name}.git (user: anything, password: your API token)");
            else
                Console.WriteLine($"webhook: POST /api/v1/projects/{created.Name}/hooks/git, HMAC-SHA256 secret (shown once): {created.WebhookSecret}");
            return 0;
        }));

        var list = new Command("list", "List projects") { CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var projects = await client.ListProjectsAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(projects); return 0; }
            var table = new TextTable("PROJECT", "DEFAULT BRANCH", "REPOSITORY");
            foreach (var p in projects)
                table.Add(p.Name, p.DefaultBranch, p.Repo + (p.LastFetchError is null ? "" : "  (fetch failing: " + p.LastFetchError + ")"));
            table.WriteToConsole();
            return 0;
        }));
        var prefix = new Argument<string?>("prefix")
        {
            Description = "Work item key prefix: 2-10 upper-case letters or digits, starting with a letter", Arity = ArgumentArity.ZeroOrOne,
        };
        var pattern = new Option<string?>("--pattern")
        {
            Description = "Regular expression that finds keys in branch names and commit messages, with a group (?<key>...) " +
                          "or (?<number>...) [and (?<prefix>...)], e.g. '\\[(?<key>[A-Z]+-[0-9]+)\\]' or '#(?<number>[0-9]+)'; '' for the default",
        };
        var setKey = new Command("set-key", "Set the project's work item key prefix (SHOP gives SHOP-1, SHOP-2, ...) and/or key pattern")
            { name, prefix, pattern, CliContext.JsonOutput };
        setKey.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(prefix) is null && result.GetValue(pattern) is null)
            {
                Console.Error.WriteLine("give a PREFIX, --pattern REGEX, or both");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var key = await client.SetItemKeyAsync(result.GetValue(name)!, result.GetValue(prefix), result.GetValue(pattern), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(key); return 0; }
            Console.WriteLine(key.Prefix is null
                ? $"project {key.Project} has no work item key prefix yet"
                : $"work items of project {key.Project} are keyed {key.Prefix}-N");
            Console.WriteLine($"keys are found with {(key.DefaultPattern ? "the default pattern" : "the pattern")} {key.Pattern}");
            return 0;
        }));
        var credentialUser = new Option<string?>("--username") { Description = "The repository's username" };
        var setCredential = new Command("set-credential", "Set the credential Slipway uses to fetch from and push merges to an external repository (admins)")
            { name, credentialUser, passwordStdin };
        setCredential.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(credentialUser) is not { } username)
            {
                await Console.Error.WriteLineAsync("error: give --username");
                return 2;
            }
            if (await GitPasswordAsync(result.GetValue(passwordStdin)) is not { } password) return 2;
            using var client = CliContext.CreateClient(result);
            await client.SetGitCredentialAsync(result.GetValue(name)!, username, password, ct);
            Console.WriteLine($"git credential of {result.GetValue(name)} set (user {username}); the password is stored encrypted and never shown");
            return 0;
        }));
        var replaceSecret = new Command("replace-webhook-secret",
            "Replace the push webhook's HMAC secret of an external repository (admins): the old one stops working; the new one is shown only now")
            { name, CliContext.JsonOutput };
        replaceSecret.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var replaced = await client.ReplaceWebhookSecretAsync(result.GetValue(name)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(replaced); return 0; }
            Console.WriteLine($"webhook: POST /api/v1/projects/{replaced.Project}/hooks/git, HMAC-SHA256 secret (shown once): {replaced.WebhookSecret}");
            return 0;
        }));
        return new Command("project", "Projects") { create, list, setKey, setCredential, replaceSecret, ProtectionCommands.Protect(), ProtectionCommands.Unprotect(), ProtectionCommands.ReleaseBranches() };
    }

    /// <summary>The git password from stdin or a hidden prompt; null (reported) when none was given.</summary>
    private static async Task<string?> GitPasswordAsync(bool fromStdin)
    {
        string? password = null;
        if (fromStdin) password = (await Secrets.ReadStdinLinesAsync(1)).FirstOrDefault();
        else if (Secrets.Interactive) password = Secrets.Prompt("Git password or token:");
        if (string.IsNullOrEmpty(password))
        {
            await Console.Error.WriteLineAsync("error: no git password given (use --password-stdin or run at a terminal)");
            return null;
        }
        return password;
    }
}
