using System.CommandLine;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Project;

/// <summary>
/// <c>slipway project protect PROJECT BRANCH</c> and <c>slipway project release-branches PROJECT [BRANCH...]
/// [--protected-tag PATTERN]... [--no-protected-tags]</c>: which branches are protected, which of them release, and
/// which tags are protected release tags. Server-side settings (repo.protect); a pipeline file never decides them.
/// </summary>
public static class ProtectionCommands
{
    public static Command Protect() => BranchProtection("protect",
        "Protect a branch (admins); only protected branches can be release branches",
        "Branch to protect: it then changes only through merges Slipway performs",
        (client, project, branch, ct) => client.ProtectBranchAsync(project, branch, ct), "is protected");

    public static Command Unprotect() => BranchProtection("unprotect",
        "Take a branch's protection away (admins): direct pushes reach it again, its runs get no protected values",
        "Branch whose protection to take away (not the default branch, not a release branch)",
        (client, project, branch, ct) => client.UnprotectBranchAsync(project, branch, ct), "is no longer protected");

    /// <summary><c>slipway project VERB PROJECT BRANCH</c>: changes one branch's protection, then prints the protected branches.</summary>
    private static Command BranchProtection(string verb, string description, string branchDescription,
        Func<Slipway.Client.SlipwayClient, string, string, CancellationToken, Task> change, string outcome)
    {
        var name = new Argument<string>("project") { Description = "Project name" };
        var branch = new Argument<string>("branch") { Description = branchDescription };
        var command = new Command(verb, description) { name, branch, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var project = result.GetValue(name)!;
            await change(client, project, result.GetValue(branch)!, ct);
            var all = await client.ListProtectedBranchesAsync(project, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(all); return 0; }
            Console.WriteLine($"branch {result.GetValue(branch)} of project {project} {outcome} (protected branches: {string.Join(", ", all)})");
            return 0;
        }));
        return command;
    }

    public static Command ReleaseBranches()
    {
        var name = new Argument<string>("project") { Description = "Project name" };
        var branches = new Argument<string[]>("branches")
        {
            Description = "The branches whose green runs release (each must be protected); none: show the settings", Arity = ArgumentArity.ZeroOrMore,
        };
        var tags = new Option<string[]>("--protected-tag")
        {
            Description = "A protected release tag pattern, a git glob such as 'v*' (repeat; replaces the list)", AllowMultipleArgumentsPerToken = true,
        };
        var noTags = new Option<bool>("--no-protected-tags") { Description = "Protect no tags (release versions read from tags can then be chosen by anyone who pushes)" };
        var command = new Command("release-branches", "Show or set the branches that release and the protected release tags")
            { name, branches, tags, noTags, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var project = result.GetValue(name)!;
            var newBranches = result.GetValue(branches) is { Length: > 0 } b ? b : null;
            var newTags = result.GetValue(noTags) ? [] : result.GetValue(tags) is { Length: > 0 } t ? t : null;
            if (result.GetValue(noTags) && result.GetValue(tags) is { Length: > 0 })
            {
                await Console.Error.WriteLineAsync("error: give --protected-tag or --no-protected-tags, not both");
                return 2;
            }
            var settings = newBranches is null && newTags is null
                ? await client.GetReleaseBranchesAsync(project, ct)
                : await client.SetReleaseBranchesAsync(project, newBranches, newTags, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(settings); return 0; }
            Print(settings);
            return 0;
        }));
        return command;
    }

    private static void Print(ReleaseBranchesDto s)
    {
        Console.WriteLine($"release branches of {s.Project}: {string.Join(", ", s.Branches)}");
        Console.WriteLine($"protected release tags: {(s.ProtectedTags.Count == 0 ? "none" : string.Join(", ", s.ProtectedTags))}");
        Console.WriteLine($"protected branches: {string.Join(", ", s.ProtectedBranches)}");
        Console.WriteLine(s.Default ? "(the defaults: nothing set yet)" : $"(set by {s.UpdatedBy} at {s.UpdatedAt:u})");
    }
}
