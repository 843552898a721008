using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Contracts.Api;
using RunDurations = Slipway.Core.Runs.Durations;

namespace Slipway.Cli.Commands.Run;

/// <summary><c>slipway run start|list|show|cancel|retry</c>.</summary>
public static class RunCommand
{
    private static readonly string[] Final = ["succeeded", "failed", "cancelled"];

    public static Command Create() => new("run", "Pipeline runs") { Start(), List(), Show(), Cancel(), Retry() };

    private static Command Start()
    {
        var project = new Argument<string>("project") { Description = "The project's name" };
        var branch = new Option<string?>("--branch") { Description = "Branch (default: the project's default branch)" };
        var commit = new Option<string?>("--commit") { Description = "Commit to build (default: the branch head)" };
        var wait = new Option<bool>("--wait") { Description = "Print progress until the run ends; exit 0 only if it succeeded" };
        var command = new Command("start", "Start a run") { project, branch, commit, wait, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var created = await client.StartRunAsync(result.GetValue(project)!, result.GetValue(branch), result.GetValue(commit), ct);
            if (!result.GetValue(wait))
            {
                if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(created);
                else Console.WriteLine($"started {Name(await client.GetRunAsync(created.Id, ct))}");
                return 0;
            }
            Console.WriteLine($"started {Name(await client.GetRunAsync(created.Id, ct))}");
            var run = await WaitAsync(client, created.Id, ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(run);
            return run.Status == "succeeded" ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Polls the run and prints one plain line per change of the run, a stage or a job (no terminal tricks, so logs stay readable in CI).</summary>
    public static async Task<RunDto> WaitAsync(Slipway.Client.SlipwayClient client, long id, CancellationToken ct)
    {
        var seen = new Dictionary<string, string>();
        while (true)
        {
            var run = await client.GetRunAsync(id, ct);
            void Report(string key, string label, string status, string? extra = null)
            {
                if (seen.TryGetValue(key, out var old) && old == status) return;
                seen[key] = status;
                Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {label}: {status}{extra}");
            }
            foreach (var stage in run.Stages)
            {
                Report("s:" + stage.Name, $"stage {stage.Name}", stage.Status);
                foreach (var job in stage.Jobs)
                {
                    var tests = job.TestSummary is { } t ? $" (tests: {t.Passed} passed, {t.Failed} failed, {t.Skipped} skipped)" : "";
                    var why = job.FailureReason is { } r && job.Status is "failed" or "cancelled" ? $" — {r}" : "";
                    Report("j:" + job.Name, $"  job {job.Name}", job.Status, tests + why);
                }
            }
            Report("run", Name(run), run.Status, run.FailureReason is { } f ? $" — {f}" : run.Waiting is { } w ? $" — {w}" : "");
            foreach (var lint in run.LintErrors) Console.WriteLine("  " + lint);
            if (Final.Contains(run.Status)) return run;
            await Task.Delay(250, ct);
        }
    }

    private static Command List()
    {
        var project = new Argument<string>("project") { Description = "The project's name" };
        var limit = new Option<int>("--limit") { Description = "How many (default 20)", DefaultValueFactory = _ => 20 };
        var kind = new Option<string?>("--kind") { Description = "ci (builds of branches), deployment (runs executing deployments) or check (script live checks); default: all" };
        kind.AcceptOnlyFromAmong("ci", "deployment", "check");
        var command = new Command("list", "List a project's runs, newest first") { project, limit, kind, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var runs = await client.ListRunsAsync(result.GetValue(project)!, result.GetValue(limit), ct, result.GetValue(kind));
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(runs); return 0; }
            // The id is what run show, logs, cancel and retry take; #N is the project's CI run number (release versions use it).
            var table = new TextTable(">ID", "RUN", "STATUS", "BRANCH", "COMMIT", "CREATED (UTC)");
            foreach (var r in runs)
                table.Add(r.Id.ToString(), r.Number is { } n ? $"#{n}" : r.Kind == "check" ? "check" : $"deployment #{r.Deployment}", r.Status, r.Branch,
                    r.Commit[..12], r.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"));
            table.WriteToConsole();
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("run") { Description = RunRef.Help };
        var command = new Command("show", "Show a run with its stages and jobs") { id, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var run = await client.GetRunAsync(await RunRef.ResolveAsync(client, result.GetValue(id)!, ct), ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(run); return 0; }
            Print(run);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// How the CLI names a run, with the same number as the web UI, releases and work items (#N, the project's CI run
    /// number) and the id the run commands take: "run #16 (id 18)"; a deployment's run: "run 18 (deployment #4)".
    /// </summary>
    public static string Name(RunDto run) =>
        run.Number is { } n ? $"run #{n} (id {run.Id})" : $"run {run.Id} (deployment #{run.Deployment})";

    public static void Print(RunDto run)
    {
        Console.WriteLine($"{Name(run)} of {run.Project}: {run.Status}{(run.Waiting is { } w ? " — " + w : "")}");
        Console.WriteLine($"  branch {run.Branch}, commit {run.Commit}, trigger {run.Trigger}");
        var now = DateTimeOffset.UtcNow;
        if (RunDurations.Text(run.StartedAt, run.FinishedAt, now) is { } all)
            Console.WriteLine(run.RetriedAt is { } retried && RunDurations.Text(retried, run.FinishedAt, now) is { } again
                ? $"  {(run.FinishedAt is null ? "running for" : "took")} {again} since the retry at {retried.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({all} from the first start)"
                : $"  {(run.FinishedAt is null ? "running for" : "took")} {all}");
        if (run.FailureReason is not null) Console.WriteLine($"  {run.FailureReason}");
        foreach (var lint in run.LintErrors) Console.WriteLine($"  {lint}");
        foreach (var warning in run.Warnings ?? []) Console.WriteLine($"  warning: {warning}");
        foreach (var stage in run.Stages)
        {
            Console.WriteLine($"  stage {stage.Name}: {stage.Status}{(RunDurations.Text(stage.StartedAt, stage.FinishedAt, now) is { } st ? $" ({st})" : "")}");
            foreach (var job in stage.Jobs)
            {
                Console.WriteLine($"    job {job.Name}: {job.Status}{(RunDurations.Text(job.StartedAt, job.FinishedAt, now) is { } jt ? $" ({jt})" : "")}" +
                    $"{(job.Attempt > 1 ? $" (attempt {job.Attempt})" : "")}{(job.FailureReason is null ? "" : " — " + job.FailureReason)}");
                if (job.TestSummary is { } t)
                {
                    Console.WriteLine($"      tests: {t.Passed} passed, {t.Failed} failed, {t.Skipped} skipped");
                    foreach (var f in t.Failures) Console.WriteLine($"      FAILED {f.Name}: {f.Message}");
                }
            }
        }
        foreach (var a in run.Artifacts) Console.WriteLine($"  artifact {a.Job}/{a.Path} {Counted.Of(a.Size, "byte")} sha256:{a.Sha256}");
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("run") { Description = RunRef.Help };
        var command = new Command("cancel", "Cancel a run (running jobs are killed)") { id, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var run = await client.CancelRunAsync(await RunRef.ResolveAsync(client, result.GetValue(id)!, ct), ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(run); else Console.WriteLine($"{Name(run)}: cancel requested ({run.Status})");
            return 0;
        }));
        return command;
    }

    private static Command Retry()
    {
        var id = new Argument<string>("run") { Description = RunRef.Help };
        var job = new Option<string?>("--job") { Description = "Only this failed job" };
        var command = new Command("retry", "Re-run the failed jobs of a run on the same commit") { id, job, CliContext.JsonOutput };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var run = await client.RetryRunAsync(await RunRef.ResolveAsync(client, result.GetValue(id)!, ct), result.GetValue(job), ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(run); else Console.WriteLine($"{Name(run)}: {run.Status}");
            return 0;
        }));
        return command;
    }
}
