using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Release;

/// <summary>
/// <c>slipway release list PROJECT</c>, <c>slipway release show PROJECT VERSION</c> (artifacts with digests, items),
/// <c>slipway release notes PROJECT VERSION</c> (markdown), <c>slipway release create PROJECT --run ID</c> (by hand from
/// a green run). Releases are immutable, so there is no command to change or delete one.
/// </summary>
public static class ReleaseCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var version = new Argument<string>("version") { Description = "Release version, e.g. 1.4.17" };
        var run = new Option<string?>("--run") { Description = "The succeeded run to release: its id (18) or its number in the project (#16)" };

        var list = new Command("list", "List a project's releases, newest first") { project, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var releases = await client.ListReleasesAsync(result.GetValue(project)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(releases); return 0; }
            var table = new TextTable("VERSION", "CREATED (UTC)", "RUN", "BRANCH", "COMMIT", ">ITEMS", ">ARTIFACTS", "BY");
            foreach (var r in releases)
                table.Add(r.Version, r.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), $"#{r.RunNumber}", r.Branch, r.Commit[..12],
                    r.Items.ToString(), r.Artifacts.ToString(), r.CreatedBy ?? "(automatic)");
            table.WriteToConsole();
            return 0;
        }));

        var show = new Command("show", "Show a release: its run, commit, artifacts with digests and work items") { project, version, CliContext.JsonOutput };
        show.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var release = await client.GetReleaseAsync(result.GetValue(project)!, result.GetValue(version)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(release); return 0; }
            Print(release);
            // What the release still needs per environment with quality gates (slipway gates shows one environment).
            List<EnvironmentDto> environments;
            try { environments = await client.ListEnvironmentsAsync(release.Project, ct); }
            catch (Client.SlipwayApiException) { return 0; } // no env.read here: the release alone
            foreach (var env in environments)
            {
                var checklist = await client.GetGateChecklistAsync(release.Project, release.Version, env.Name, ct);
                if (checklist.Gates.Count == 0) continue;
                Console.WriteLine();
                Gate.GateCommand.Print(checklist);
            }
            return 0;
        }));

        var notes = new Command("notes", "Print a release's notes (markdown)") { project, version };
        notes.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            Console.Write(await client.GetReleaseNotesAsync(result.GetValue(project)!, result.GetValue(version)!, ct));
            return 0;
        }));

        var create = new Command("create", "Create a release by hand from a succeeded run") { project, run, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(run) is not { } runText)
            {
                await Console.Error.WriteLineAsync("error: name the run to release with --run ID or --run '#NUMBER'");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var runId = await Run.RunRef.ResolveAsync(client, runText, ct, project: result.GetValue(project)!);
            var release = await client.CreateReleaseAsync(result.GetValue(project)!, runId, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(release); return 0; }
            Console.WriteLine($"created release {release.Version} from run #{release.RunNumber} ({Counted.Of(release.Items.Count, "item")}, {Counted.Of(release.Artifacts.Count, "artifact")})");
            return 0;
        }));
        return new Command("release", "Immutable releases made from green runs") { list, show, notes, create };
    }

    private static void Print(ReleaseDto r)
    {
        Console.WriteLine($"release {r.Version} of {r.Project}");
        Console.WriteLine($"run #{r.RunNumber} (id {r.RunId}) on {r.Branch} at {r.Commit}");
        Console.WriteLine($"created {r.CreatedAt:u} by {r.CreatedBy ?? "(automatic)"}");
        if (r.TestSummary is { } t) Console.WriteLine($"tests: {t.Passed} passed, {t.Failed} failed, {t.Skipped} skipped");
        Console.WriteLine();
        Console.WriteLine("artifacts:");
        foreach (var a in r.Artifacts) Console.WriteLine($"  {a.Sha256}  {a.Size,10}  {a.Path}");
        Console.WriteLine("work items:");
        foreach (var i in r.Items) Console.WriteLine($"  {i.Key,-14} {i.Kind,-8} {i.Title}");
    }
}
