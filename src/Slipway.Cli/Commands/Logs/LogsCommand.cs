using System.CommandLine;

namespace Slipway.Cli.Commands.Logs;

/// <summary>
/// <c>slipway logs RUN [--job NAME] [--follow] [--target T]</c>: prints a job's log (every job's, in order, without --job); with
/// --target, only that target's lines of a rolling deployment's job.
/// </summary>
public static class LogsCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = Run.RunRef.Help };
        var job = new Option<string?>("--job") { Description = "Job name (default: every job of the run)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing until the job ends" };
        var target = new Option<string?>("--target") { Description = "Only this target's lines of a rolling deployment (job deploy unless --job)" };
        var command = new Command("logs", "Print job logs") { run, job, follow, target };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var id = await Run.RunRef.ResolveAsync(client, result.GetValue(run)!, ct);
            if (result.GetValue(target) is { } t)
            {
                Console.Write(await client.GetTargetLogAsync(id, result.GetValue(job) ?? "deploy", t, ct));
                return 0;
            }
            var details = await client.GetRunAsync(id, ct);
            var jobs = result.GetValue(job) is { } only ? [only] : details.Stages.SelectMany(s => s.Jobs).Select(j => j.Name).ToList();
            if (jobs.Count == 0)
            {
                // Nothing ran: say why rather than print nothing (an invalid pipeline file has no jobs, and no logs).
                Console.Error.WriteLine(details.LintErrors.Count > 0
                    ? $"run {id} has no jobs, so no logs: its pipeline file is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", details.LintErrors)
                    : $"run {id} has no jobs, so no logs ({details.Status})");
                return 1;
            }
            var stdout = Console.OpenStandardOutput();
            foreach (var name in jobs)
            {
                if (jobs.Count > 1) Console.WriteLine($"==> {name} <==");
                if (result.GetValue(follow))
                {
                    await FollowAsync(client, id, name, stdout, ct);
                    continue;
                }
                long offset = 0;
                while (true)
                {
                    var page = await client.GetLogAsync(id, name, offset, null, ct);
                    await Write(stdout, page.Text);
                    if (page.NextOffset == offset) break;
                    offset = page.NextOffset;
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Follows one job's log to its end. A stream cut short (the node serving it stopped or died, a balancer in between) is
    /// followed again from the last byte printed, through whichever node answers, for up to a minute of failures in a row.
    /// </summary>
    private static async Task FollowAsync(Slipway.Client.SlipwayClient client, long run, string job, Stream stdout, CancellationToken ct)
    {
        long offset = 0;
        DateTime? failingSince = null;
        while (true)
        {
            try
            {
                await foreach (var page in client.FollowLogAsync(run, job, offset, ct))
                {
                    await Write(stdout, page.Text);
                    offset = page.NextOffset;
                    failingSince = null;
                }
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or Slipway.Client.SlipwayApiException { Status: >= System.Net.HttpStatusCode.InternalServerError }
                                      && !ct.IsCancellationRequested)
            {
                failingSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - failingSince > TimeSpan.FromMinutes(1)) throw;
                await Console.Error.WriteLineAsync($"slipway: the log stream was cut ({e.Message}); following again from byte {offset}");
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    private static async Task Write(Stream stdout, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        await stdout.WriteAsync(bytes);
        await stdout.FlushAsync();
    }
}
