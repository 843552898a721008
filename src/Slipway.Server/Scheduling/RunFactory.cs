using Microsoft.Extensions.Logging;
using Slipway.Core.Pipelines;
using Slipway.Core.Runs;
using Slipway.Server.Git;
using Slipway.Server.Storage;

namespace Slipway.Server.Scheduling;

/// <summary>
/// Starts a run of one commit: reads <c>.slipway.yml</c> from that commit in the mirror, lints it, plans the
/// stages for the branch and stores the run. An invalid or missing file gives a failed run that shows the
/// errors, never a silent skip.
/// </summary>
public sealed class RunFactory(RunStore runs, MirrorDirectory mirrors, WorkSignal signal, TimeProvider clock, ILogger<RunFactory> log)
{
    /// <summary>
    /// A commit's pipeline file and message never change, so they are read from git once per commit
    /// (two git processes cost more than everything else in starting a run). Bounded: cleared when full.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Project, string Commit), (string? Text, string? Message)> _commits = new();
    private const int CommitCacheSize = 1024;
    private const int MaxCachedFileChars = 64 * 1024;
    private const int MaxMessageChars = 64 * 1024;

    public async Task<long> StartAsync(ProjectRow project, string branch, string commit, string trigger, CancellationToken ct = default)
    {
        var (text, message) = await ReadCommitAsync(project.Name, commit, ct);

        RunPlan? plan = null;
        IReadOnlyList<string> errors;
        if (text is null)
            errors = [$"{PipelineParser.DefaultFileName}:1:1: the commit has no {PipelineParser.DefaultFileName} at the repository root"];
        else
        {
            var parsed = PipelineParser.Parse(text);
            errors = parsed.Errors.Select(e => e.ToString()).ToList();
            if (parsed.IsValid) plan = RunPlanner.Plan(parsed.Pipeline!, branch);
        }

        var (runId, pools) = await runs.CreateAsync(
            new NewRun(project.Id, branch, commit, message, trigger, plan, errors), clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
        log.LogInformation("run {RunId} of {Project} on {Branch} at {Commit} ({Trigger}): {State}",
            runId, project.Name, branch, commit[..12], trigger, plan is null ? "invalid pipeline file" : "queued");
        return runId;
    }

    private async Task<(string? Text, string? Message)> ReadCommitAsync(string project, string commit, CancellationToken ct)
    {
        if (_commits.TryGetValue((project, commit), out var known)) return known;
        var mirror = mirrors.For(project);
        // Never load a huge file into memory: past the limit, hand the parser a stand-in of limit+1 bytes
        // so it reports the size error in its usual words.
        var size = await mirror.FileSizeAsync(commit, PipelineParser.DefaultFileName, ct);
        var text = size is null ? null
            : size > PipelineLimits.MaxFileBytes ? new string(' ', PipelineLimits.MaxFileBytes + 1)
            : await mirror.ReadFileAsync(commit, PipelineParser.DefaultFileName, ct);
        string? message = null;
        try { message = await mirror.CommitMessageAsync(commit, ct); }
        catch (GitException e) { log.LogWarning("could not read the message of {Commit}: {Error}", commit, e.Message); }
        if (message is { Length: > MaxMessageChars }) message = message[..MaxMessageChars] + "\n[…]";
        // Cache only small files (the usual case); a large or oversized file is read again if needed.
        if (text is null || text.Length <= MaxCachedFileChars)
        {
            if (_commits.Count >= CommitCacheSize) _commits.Clear();
            _commits[(project, commit)] = (text, message);
        }
        return (text, message);
    }
}
