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
    public static Command Protect()
    {
        var name = new Argument<string>("project") { Description = "Project name" };
        var branch = new Argument<string>("branch") { Description = "Branch to protect: it then changes only through merges Slipway performs" };
        var command = new Command("protect", "Protect a branch (admins); only protected branches can be release branches") { name, branch, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var project = result.GetValue(name)!;
            await client.ProtectBranchAsync(project, result.GetValue(branch)!, ct);
            var all = await client.ListProtectedBranchesAsync(project, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(all); return 0; }
            Console.WriteLine($"branch {result.GetValue(branch)} of project {project} is protected (protected branches: {string.Join(", ", all)})");
            return 0;
        }));
        return command;
    }

    public static Command Unprotect()
    {
        var name = new Argument<string>("project") { Description = "Project name" };
        var branch = new Argument<string>("branch") { Description = "Branch whose protection to take away (not the default branch, not a release branch)" };
        var command = new Command("unprotect", "Take a branch's protection away (admins): direct pushes reach it again, its runs get no protected values")
            { name, branch, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var project = result.GetValue(name)!;
            await client.UnprotectBranchAsync(project, result.GetValue(branch)!, ct);
            var all = await client.ListProtectedBranchesAsync(project, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(all); return 0; }
            Console.WriteLine($"branch {result.GetValue(branch)} of project {project} is no longer protected (protected branches: {string.Join(", ", all)})");
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
