using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;

namespace Slipway.Cli.Commands.Item;

/// <summary>
/// <c>slipway item create PROJECT --title T [--kind feature|bug|chore] [--description D]</c>,
/// <c>slipway item list PROJECT [--state S]</c>, <c>slipway item show PROJECT NUMBER</c> (with its timeline),
/// <c>slipway item edit PROJECT NUMBER [--title T] [--description D] [--kind K]</c>. States are derived, so
/// there is no command to set one.
/// </summary>
public static class ItemCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var number = new Argument<string>("item") { Description = "The item: its key (SHOP-42) or its number (42)" };
        var title = new Option<string?>("--title") { Description = "One line, at most 200 characters" };
        var description = new Option<string?>("--description") { Description = "Free text; line breaks allowed" };
        var kind = new Option<string?>("--kind") { Description = "feature (default), bug or chore" };
        var state = new Option<string?>("--state") { Description = "Only items in this state: requested, in_development, in_review, merged, released" };

        var create = new Command("create", "Create a work item") { project, title, description, kind, CliContext.JsonOutput };
        create.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (result.GetValue(title) is not { } t)
            {
                await Console.Error.WriteLineAsync("error: give the item a --title");
                return 2;
            }
            using var client = CliContext.CreateClient(result);
            var item = await client.CreateWorkItemAsync(result.GetValue(project)!, t, result.GetValue(description), result.GetValue(kind), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(item); return 0; }
            Console.WriteLine($"created {item.Key} ({item.Kind}): {item.Title}");
            return 0;
        }));

        var list = new Command("list", "List a project's work items with their derived state") { project, state, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var items = await client.ListWorkItemsAsync(result.GetValue(project)!, result.GetValue(state), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(items); return 0; }
            var table = new TextTable("ITEM", "STATE", "KIND", "TITLE");
            foreach (var i in items) table.Add(i.Key, i.State, i.Kind, i.Title);
            table.WriteToConsole();
            return 0;
        }));

        var show = new Command("show", "Show a work item and its timeline") { project, number, CliContext.JsonOutput };
        show.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (Number(result.GetValue(number)!) is not { } n) return 2;
            using var client = CliContext.CreateClient(result);
            var item = await client.GetWorkItemAsync(result.GetValue(project)!, n, ct);
            if (!SameItem(result.GetValue(number)!, item)) return 1;
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(item); return 0; }
            Print(item);
            return 0;
        }));

        var edit = new Command("edit", "Change a work item's title, description or kind") { project, number, title, description, kind, CliContext.JsonOutput };
        edit.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            if (Number(result.GetValue(number)!) is not { } n) return 2;
            using var client = CliContext.CreateClient(result);
            // A key names a project's prefix too: check it before changing anything.
            if (!long.TryParse(result.GetValue(number), out _) && !SameItem(result.GetValue(number)!, await client.GetWorkItemAsync(result.GetValue(project)!, n, ct)))
                return 1;
            var item = await client.UpdateWorkItemAsync(result.GetValue(project)!, n,
                result.GetValue(title), result.GetValue(description), result.GetValue(kind), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(item); return 0; }
            Console.WriteLine($"updated {item.Key} ({item.Kind}): {item.Title}");
            return 0;
        }));
        return new Command("item", "Work items (requests, bugs, chores) and their path to release") { create, list, show, edit };
    }

    /// <summary>The item's number from "42" or "SHOP-42"; null (with the reason on stderr) for anything else.</summary>
    private static long? Number(string text)
    {
        if (Core.WorkItems.WorkItemKey.TryParse(text, out var key)) return key.Value.Number;
        if (Core.WorkItems.WorkItemKey.ParseNumber(text) is { } n) return n;
        Console.Error.WriteLine($"error: '{text}' is not a work item: give its key (SHOP-42) or its number (42)");
        return null;
    }

    /// <summary>Whether a key the user typed is the item found (SHOP-42 must not show OTHER-42's project's item 42).</summary>
    private static bool SameItem(string typed, WorkItemDto item)
    {
        if (long.TryParse(typed, out _) || string.Equals(typed, item.Key, StringComparison.OrdinalIgnoreCase)) return true;
        Console.Error.WriteLine($"error: {item.Project} has no item {typed}: its items are {item.Key[..(item.Key.LastIndexOf('-') + 1)]}N (number {item.Number} is {item.Key})");
        return false;
    }

    private static void Print(WorkItemDto item)
    {
        Console.WriteLine($"{item.Key}  {item.Title}");
        Console.WriteLine($"kind: {item.Kind}   state: {item.State}{(item.Stage is { } stage && stage != item.State ? $" ({item.StageLabel})" : "")}   requested by {item.Requester}   updated {item.UpdatedAt:u} by {item.UpdatedBy}");
        foreach (var w in item.Environments ?? [])
            Console.WriteLine(w.Status switch
            {
                "deployed" => $"on {w.Environment} ({w.Release}, deployment #{w.Deployment})",
                "pending" => $"on its way to {w.Environment} ({w.Release}, deployment #{w.Deployment})",
                "rolled_back" => $"rolled back from {w.Environment} (now {w.Release}, deployment #{w.Deployment})",
                _ => $"failed on {w.Environment} ({w.Release}, deployment #{w.Deployment})",
            });
        if (item.Description.Length > 0) Console.WriteLine(Environment.NewLine + item.Description);
        Console.WriteLine();
        var timeline = new TextTable("WHEN (UTC)", "WHAT", "WHO");
        foreach (var e in item.Timeline ?? [])
        {
            var what = e.Kind switch
            {
                "created" => "created",
                "branch" => $"branch {e.Ref}",
                "commit" => $"commit {e.Ref[..Math.Min(12, e.Ref.Length)]}",
                "run" => $"run #{e.RunNumber} ({e.RunStatus})",
                "release" => $"release {e.Ref} (run #{e.RunNumber})",
                "change_request" => $"change request #{e.Ref} opened",
                "deployed" => $"on {e.Ref}",
                "rolled_back" => $"rolled back: {e.Ref} is current again",
                "carried" => $"still on {e.Ref}, a later release with it too (deployment #{e.Deployment})",
                "change_request_merged" => $"change request #{e.Ref} merged",
                "signoff_accepted" => $"signed off: {e.Ref}",
                "signoff_rejected" => $"sign-off rejected: {e.Ref}",
                "review" => $"review of change request #{e.Ref}: {e.Detail}",
                "later_release" => $"also in release {e.Ref} (run #{e.RunNumber})",
                "later_releases_folded" => $"and {e.Detail} more later release{(e.Detail == "1" ? "" : "s")} carried it too ({e.Ref}; slipway release list)",
                "deployment_approved" => $"deployment #{e.Deployment} ({e.Ref}) approved{(e.Detail is { } why ? ": " + why : "")}",
                "deployment_rejected" => $"deployment #{e.Deployment} ({e.Ref}) rejected{(e.Detail is { } why ? ": " + why : "")}",
                _ => $"{e.Kind.Replace('_', ' ')} {e.Ref}",
            };
            timeline.Add(e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), what, e.Who ?? (e.Kind is "release" or "later_release" or "later_releases_folded" ? "(automatic)" : "(push)"));
        }
        timeline.WriteToConsole();
    }
}
