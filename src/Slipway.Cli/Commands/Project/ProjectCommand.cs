using System.CommandLine;

namespace Slipway.Cli.Commands.Project;

/// <summary><c>slipway project create NAME --repo URL [--branch B]</c>, <c>slipway project list</c>.</summary>
public static class ProjectCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Project name" };
        var repo = new Option<string>("--repo") { Description = "Anything git can fetch: path, file://, ssh://, https://", Required = true };
        var branch = new Option<string?>("--branch") { Description = "Default branch (default: main, else the repository's)" };
        var create = new Command("create", "Create a project from a git repository") { name, repo, branch, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var created = await client.CreateProjectAsync(result.GetValue(name)!, result.GetValue(repo)!, result.GetValue(branch), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(created); return 0; }
            Console.WriteLine($"created project {created.Name} (default branch {created.DefaultBranch})");
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
        return new Command("project", "Projects") { create, list };
    }
}
