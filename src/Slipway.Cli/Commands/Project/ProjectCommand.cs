using System.CommandLine;

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
        var create = new Command("create", "Create a project from a git repository, or hosted by Slipway (--hosted)") { name, repo, branch, hosted, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var isHosted = result.GetValue(hosted);
            if (isHosted == (result.GetValue(repo) is not null))
            {
                Console.Error.WriteLine("give either --repo URL or --hosted");
                return 2;
            }
            var created = isHosted
                ? await client.CreateHostedProjectAsync(result.GetValue(name)!, ct)
                : await client.CreateProjectAsync(result.GetValue(name)!, result.GetValue(repo)!, result.GetValue(branch), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(created); return 0; }
            Console.WriteLine($"created project {created.Name} (default branch {created.DefaultBranch})");
            if (isHosted) Console.WriteLine($"clone: git clone <server>/git/{created.Name}.git (user: anything, password: your API token)");
            Console.WriteLine($"webhook: POST /api/v1/projects/{created.Name}/hooks/git, HMAC-SHA256 secret (shown once): {created.WebhookSecret}");
            return 0;
        }));

        var list = new Command("list", "List projects") { CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var projects = await client.ListProjectsAsync(ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(projects); return 0; }
            foreach (var p in projects)
                Console.WriteLine($"{p.Name,-24} {p.DefaultBranch,-12} {p.Repo}{(p.LastFetchError is null ? "" : "  (fetch failing: " + p.LastFetchError + ")")}");
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
        return new Command("project", "Projects") { create, list, setKey };
    }
}
