using System.CommandLine;
using System.Globalization;
using Slipway.Cli.Output;
using Slipway.Client;

namespace Slipway.Cli.Commands.Audit;

/// <summary>
/// <c>slipway audit list|verify|export</c>. <c>verify</c> exits 0 when the hash chain is intact and 2 when it
/// is not (1 stays "the command could not run"), so scripts can tell tampering from an unreachable server.
/// </summary>
public static class AuditCommand
{
    public const int ChainBroken = 2;

    public static Command Create() => new("audit", "The audit log: list, verify the hash chain, export evidence") { List(), Verify(), Export() };

    private static readonly Option<string?> From = new("--from") { Description = "From this time on (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00Z; UTC if no offset)" };
    private static readonly Option<string?> To = new("--to") { Description = "Before this time (ISO 8601)" };

    private static DateTimeOffset? Time(ParseResult result, Option<string?> option)
    {
        var text = result.GetValue(option);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new ArgumentException($"{option.Name}: '{text}' is not a date or time (use ISO 8601, e.g. 2026-01-31T12:00:00Z)");
    }

    private static Command List()
    {
        var actor = new Option<string?>("--actor") { Description = "Only this actor (username, agent name)" };
        var action = new Option<string?>("--action") { Description = "Only this action (slipway actions)" };
        var outcome = new Option<string?>("--outcome") { Description = "allowed, denied, succeeded or failed" };
        var target = new Option<string?>("--target") { Description = "Target contains this text" };
        var limit = new Option<int?>("--limit") { Description = "At most this many entries (default 100, at most 1000)" };
        var before = new Option<long?>("--before") { Description = "Only entries before this sequence number (paging)" };
        var command = new Command("list", "List audit entries, newest first") { From, To, actor, action, outcome, target, limit, before, CliContext.JsonOutput };
        command.SetAction((result, ct) => Guard(async () =>
        {
            var filter = new AuditFilterOptions(Time(result, From), Time(result, To), result.GetValue(actor), result.GetValue(action),
                result.GetValue(outcome), result.GetValue(target), result.GetValue(before), result.GetValue(limit));
            using var client = CliContext.CreateClient(result);
            var entries = await client.ListAuditAsync(filter, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(entries); return 0; }
            foreach (var e in entries)
                Console.WriteLine($"{e.Seq,7} {e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} {e.Outcome,-9} {e.ActorKind}:{e.Actor} {e.Action} {e.Target}" +
                                  (e.Detail is null ? "" : $" — {e.Detail}") + $" [{e.Source}, {e.RequestId}]");
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var expectHead = new Option<string?>("--expect-head")
        {
            Description = "A head hash printed by an earlier verify and kept outside the database: it must be in the chain (its position is printed); " +
                          "exit 2 if not (newest entries removed, or the chain rewritten)",
        };
        var command = new Command("verify", "Check the audit log's hash chain; exit 0 if intact, 2 with the first bad entry if not") { CliContext.JsonOutput, expectHead };
        command.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var v = await client.VerifyAuditAsync(result.GetValue(expectHead), ct);
            if (result.GetValue(CliContext.JsonOutput)) CliContext.PrintJson(v);
            else if (v.Ok)
            {
                Console.WriteLine($"audit chain intact: {Counted.Of(v.EntriesChecked, "entry", "entries")}, head {v.HeadHash}");
                if (v.ExpectedHeadSequence is { } at)
                    Console.WriteLine($"expected head found: entry {at}, followed by {Counted.Of(v.EntriesAfterExpectedHead ?? 0, "newer entry", "newer entries")} " +
                                      $"up to entry {v.HeadSequence}");
            }
            else
            {
                Console.WriteLine($"audit chain BROKEN" + (v.FirstBadSequence is { } n ? $" at entry {n}" : "") + $": {v.Problem}");
                Console.WriteLine($"last good entry's hash: {v.HeadHash}");
            }
            return v.Ok ? 0 : ChainBroken;
        }));
        return command;
    }

    private static Command Export()
    {
        var format = new Option<string>("--format") { Description = "csv or json", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("csv", "json");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout" };
        var command = new Command("export", "Export audit entries, oldest first, streamed to stdout or a file") { From, To, format, output };
        command.SetAction((result, ct) => Guard(async () =>
        {
            var filter = new AuditFilterOptions(Time(result, From), Time(result, To));
            using var client = CliContext.CreateClient(result);
            var file = result.GetValue(output);
            if (file is null)
            {
                await using var stdout = Console.OpenStandardOutput();
                await client.ExportAuditAsync(result.GetValue(format)!, stdout, filter, ct);
                return 0;
            }
            // Written next to the target and moved into place, so a failed export never leaves a partial file behind.
            var temp = file + ".partial";
            try
            {
                long bytes;
                await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write)) bytes = await client.ExportAuditAsync(result.GetValue(format)!, stream, filter, ct);
                File.Move(temp, file, overwrite: true);
                await Console.Error.WriteLineAsync($"exported {Counted.Of(bytes, "byte")} to {file}");
            }
            finally { File.Delete(temp); }
            return 0;
        }));
        return command;
    }

    /// <summary><see cref="CliContext.GuardAsync"/> plus bad option values (dates) as an error line and exit code 2.</summary>
    private static Task<int> Guard(Func<Task<int>> body) => CliContext.GuardAsync(async () =>
    {
        try { return await body(); }
        catch (ArgumentException e) { await Console.Error.WriteLineAsync($"error: {e.Message}"); return 2; }
    });
}
