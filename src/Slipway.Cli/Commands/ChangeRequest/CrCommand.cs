using System.CommandLine;
using System.Net;
using Slipway.Cli.Output;
using Slipway.Client;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.ChangeRequest;

/// <summary>
/// <c>slipway cr open|list|show|review|merge|close|reopen|auto-merge|rules</c>: change requests from a source branch
/// into a target branch, their reviews and merges, and the merge rules of target branches. A refused merge prints
/// every unmet rule on its own line and exits 1.
/// </summary>
public static class CrCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var number = new Argument<long>("number") { Description = "Change request number" };
        var source = new Option<string?>("--source") { Description = "Branch with the change" };
        var target = new Option<string?>("--target") { Description = "Branch to merge into (default: the project's default branch)" };
        var title = new Option<string?>("--title") { Description = "One line, at most 200 characters; work item keys in it link the items" };
        var description = new Option<string?>("--description") { Description = "Free text" };
        var strategy = new Option<string?>("--strategy") { Description = "merge (default), squash or fast-forward" };
        var autoMerge = new Option<bool>("--auto-merge") { Description = "Merge by itself as soon as every rule holds" };
        var state = new Option<string?>("--state") { Description = "Only change requests in this state: open, merged, closed" };
        var diff = new Option<bool>("--diff") { Description = "Print the unified diff too" };

        var open = new Command("open", "Open a change request") { project, source, target, title, description, autoMerge, strategy, CliContext.JsonOutput };
        open.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(source) is null || result.GetValue(title) is null)
            {
                await Console.Error.WriteLineAsync("error: give --source BRANCH and --title TEXT");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var cr = await client.OpenChangeRequestAsync(result.GetValue(project)!, new OpenChangeRequestRequest(result.GetValue(title), result.GetValue(description),
                result.GetValue(source), result.GetValue(target), result.GetValue(autoMerge) ? result.GetValue(strategy) ?? "merge" : null), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(cr); return 0; }
            Console.WriteLine($"opened change request #{cr.Number}: {cr.Source} into {cr.Target} ({Counted.Of(cr.Commits.Count, "commit")}){(cr.AutoMerge is null ? "" : ", merges by itself when ready")}");
            PrintWarnings(cr);
            return 0;
        }));

        var list = new Command("list", "List a project's change requests, newest first") { project, state, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var crs = await client.ListChangeRequestsAsync(result.GetValue(project)!, result.GetValue(state), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(crs); return 0; }
            var table = new TextTable("CR", "STATE", "SOURCE -> TARGET", "AUTHOR", "TITLE");
            foreach (var c in crs) table.Add($"#{c.Number}", c.State, $"{c.Source} -> {c.Target}", c.Author, c.Title);
            table.WriteToConsole();
            return 0;
        }));

        var show = new Command("show", "Show a change request: commits, files, runs, reviews, items and what blocks its merge") { project, number, strategy, diff, CliContext.JsonOutput };
        show.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var cr = await client.GetChangeRequestAsync(result.GetValue(project)!, result.GetValue(number), result.GetValue(strategy), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(cr); return 0; }
            Print(cr);
            if (result.GetValue(diff)) Console.Write(await client.GetChangeRequestDiffAsync(cr.Project, cr.Number, ct));
            return 0;
        }));

        var approve = new Option<bool>("--approve") { Description = "Approve" };
        var requestChanges = new Option<bool>("--request-changes") { Description = "Request changes (blocks the merge until you approve)" };
        var comment = new Option<string?>("--comment") { Description = "Comment text (alone: a comment without a verdict)" };
        var overrideReason = new Option<string?>("--override-reason") { Description = "Holders of policy.override only: approve despite a segregation-of-duties refusal (flagged in the audit log)" };
        var review = new Command("review", "Approve, request changes or comment") { project, number, approve, requestChanges, comment, overrideReason, CliContext.JsonOutput };
        review.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var verdict = (result.GetValue(approve), result.GetValue(requestChanges)) switch
            {
                (true, false) => "approve",
                (false, true) => "request-changes",
                (false, false) when result.GetValue(comment) is not null => "comment",
                _ => null,
            };
            if (verdict is null)
            {
                await Console.Error.WriteLineAsync("error: give --approve, --request-changes, or only --comment TEXT");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var cr = await client.ReviewChangeRequestAsync(result.GetValue(project)!, result.GetValue(number), verdict, result.GetValue(comment),
                result.GetValue(overrideReason), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(cr); return 0; }
            Console.WriteLine($"{verdict} recorded on change request #{cr.Number}");
            PrintUnmet(cr);
            return 0;
        }));

        var merge = new Command("merge", "Merge a change request whose rules all hold; otherwise list each unmet rule") { project, number, strategy, CliContext.JsonOutput };
        merge.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var (name, n) = (result.GetValue(project)!, result.GetValue(number));
            try
            {
                var cr = await client.MergeChangeRequestAsync(name, n, result.GetValue(strategy), ct);
                if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(cr); return 0; }
                Console.WriteLine($"merged change request #{cr.Number} into {cr.Target} ({cr.MergeStrategy}) as {cr.MergeCommit}");
                return 0;
            }
            catch (SlipwayApiException e) when (e.Status == HttpStatusCode.Conflict)
            {
                // A refusal for unmet rules already names each of them in one long line: print a short heading instead,
                // then each rule once on its own line. Any other conflict (a refused push) keeps its own message.
                var cr = await client.GetChangeRequestAsync(name, n, result.GetValue(strategy), ct);
                var unmet = cr.State == "open" ? cr.UnmetRules : [];
                var named = unmet.Count > 0 && unmet.All(r => e.Message.Contains(r.Message, StringComparison.Ordinal));
                await Console.Error.WriteLineAsync(named
                    ? $"error: cannot merge change request #{cr.Number}: {Counted.Of(unmet.Count, "rule")} not met"
                    : $"error: {e.Message}");
                foreach (var rule in unmet) await Console.Error.WriteLineAsync($"  unmet: {rule.Rule}: {rule.Message}");
                return 1;
            }
        }));

        var close = new Command("close", "Close a change request without merging") { project, number };
        close.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var cr = await client.CloseChangeRequestAsync(result.GetValue(project)!, result.GetValue(number), ct);
            Console.WriteLine($"closed change request #{cr.Number}");
            return 0;
        }));
        var reopen = new Command("reopen", "Reopen a closed change request") { project, number };
        reopen.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var cr = await client.ReopenChangeRequestAsync(result.GetValue(project)!, result.GetValue(number), ct);
            Console.WriteLine($"reopened change request #{cr.Number}");
            return 0;
        }));

        var onOff = new Argument<string>("on|off") { Description = "on: merge by itself once every rule holds; off: stop" };
        var auto = new Command("auto-merge", "Turn auto-merge on or off") { project, number, onOff, strategy };
        auto.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var enable = result.GetValue(onOff) switch { "on" => true, "off" => false, _ => (bool?)null };
            if (enable is null) { await Console.Error.WriteLineAsync("error: say on or off"); return 2; }
            using var client = CliContext.CreateClient(result);
            var cr = await client.SetAutoMergeAsync(result.GetValue(project)!, result.GetValue(number), enable.Value, result.GetValue(strategy), ct);
            Console.WriteLine(cr.AutoMerge is null ? $"auto-merge off for #{cr.Number}" : $"#{cr.Number} merges by itself ({cr.AutoMerge}) once every rule holds");
            PrintUnmet(cr);
            return 0;
        }));

        return new Command("cr", "Change requests: review and merge a branch into another") { open, list, show, review, merge, close, reopen, auto, RulesCommand(project) };
    }

    private static Command RulesCommand(Argument<string> project)
    {
        var branch = new Argument<string>("branch") { Description = "Target branch" };
        var approvals = new Option<int?>("--approvals") { Description = "Approvals required (0-10; default 1)" };
        var dismiss = new Option<bool?>("--dismiss-stale") { Description = "true: new commits dismiss earlier approvals (default); false: approvals stay" };
        var list = new Command("list", "Merge rules of the project's branches") { project, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var rules = await client.ListMergeRulesAsync(result.GetValue(project)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(rules); return 0; }
            foreach (var r in rules) Console.WriteLine(Describe(r));
            return 0;
        }));
        var set = new Command("set", "Set a target branch's merge rules (admins)") { project, branch, approvals, dismiss };
        set.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var r = await client.SetMergeRulesAsync(result.GetValue(project)!, result.GetValue(branch)!, result.GetValue(approvals), result.GetValue(dismiss), ct);
            Console.WriteLine(Describe(r));
            return 0;
        }));
        return new Command("rules", "Merge rules per target branch") { list, set };
    }

    private static string Describe(MergeRulesDto r) =>
        $"{r.Branch}: {r.RequiredApprovals} approval{(r.RequiredApprovals == 1 ? "" : "s")} required, stale approvals {(r.DismissStaleApprovals ? "dismissed" : "kept")}" +
        (r.UpdatedBy is null ? " (defaults)" : $" (set by {r.UpdatedBy} {r.UpdatedAt:u})");

    private static void Print(ChangeRequestDto cr)
    {
        Console.WriteLine($"change request #{cr.Number} of {cr.Project}: {cr.Title}");
        Console.WriteLine($"{cr.State}: {cr.Source} ({Short(cr.SourceHead)}) into {cr.Target} ({Short(cr.TargetHead)}), opened by {cr.Author} {cr.CreatedAt:u}");
        if (cr.MergedBy is not null) Console.WriteLine($"merged by {cr.MergedBy} {cr.MergedAt:u} ({cr.MergeStrategy}) as {cr.MergeCommit}");
        if (cr.ClosedBy is not null) Console.WriteLine($"closed by {cr.ClosedBy} {cr.ClosedAt:u}");
        if (cr.Description.Length > 0) Console.WriteLine(cr.Description);
        Console.WriteLine();
        Console.WriteLine($"commits ({cr.Commits.Count}):");
        foreach (var c in cr.Commits) Console.WriteLine($"  {c.Sha[..12]} {c.AuthorName}{(c.AuthorUser is null ? "" : $" ({c.AuthorUser})")}: {c.Subject}");
        Console.WriteLine($"files ({cr.Files.Count}):");
        foreach (var f in cr.Files) Console.WriteLine($"  +{f.Added?.ToString() ?? "bin"} -{f.Deleted?.ToString() ?? "bin"}  {f.Path}");
        Console.WriteLine("runs of the head commit:");
        foreach (var r in cr.HeadRuns) Console.WriteLine($"  run #{r.Number} (id {r.Id}) {r.Status}");
        Console.WriteLine("reviews:");
        foreach (var r in cr.Reviews)
            Console.WriteLine($"  {r.At:u} {r.Reviewer}: {r.Verdict}{(r.Dismissed ? " (dismissed: new commits since)" : "")}{(r.Comment.Length > 0 ? " — " + r.Comment : "")}");
        if (cr.Items.Count > 0) Console.WriteLine("work items: " + string.Join(", ", cr.Items.Select(i => $"{i.Key} {i.Title}")));
        PrintWarnings(cr);
        if (cr.ConflictingFiles.Count > 0) Console.WriteLine("conflicts in: " + string.Join(", ", cr.ConflictingFiles));
        if (cr.AutoMerge is not null) Console.WriteLine($"auto-merge ({cr.AutoMerge}) set by {cr.AutoMergeBy}{(cr.AutoMergeError is null ? "" : ": " + cr.AutoMergeError)}");
        PrintUnmet(cr);
    }

    private static void PrintUnmet(ChangeRequestDto cr)
    {
        if (cr.State != "open") return;
        if (cr.UnmetRules.Count == 0) { Console.WriteLine($"ready to merge ({cr.Strategy})"); return; }
        Console.WriteLine($"not mergeable ({cr.Strategy}) yet:");
        foreach (var rule in cr.UnmetRules) Console.WriteLine($"  unmet: {rule.Rule}: {rule.Message}");
    }

    private static void PrintWarnings(ChangeRequestDto cr)
    {
        foreach (var w in cr.Warnings) Console.WriteLine($"warning: {w}");
    }

    private static string Short(string? sha) => sha is null ? "gone" : sha[..12];
}
