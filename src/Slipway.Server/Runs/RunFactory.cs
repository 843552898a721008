using Microsoft.Extensions.Logging;
using Slipway.Core.Environments;
using Slipway.Core.Pipelines;
using Slipway.Core.Releases;
using Slipway.Core.Runs;
using Slipway.Core.Secrets;

namespace Slipway.Server.Runs;

/// <summary>
/// Starts a run of one commit: reads <c>.slipway.yml</c> from that commit in the mirror, lints it, plans the
/// stages for the branch and stores the run. An invalid or missing file gives a failed run that shows the
/// errors, never a silent skip; so does a plan that breaks a rule of the server (a build job on a deploy pool, a
/// job of an unprotected branch asking for a protected secret). Whether a green run releases is the project's
/// setting (<see cref="ReleaseBranches"/>), not the file's <c>release.branch</c>; where the file disagrees the run
/// carries a warning. Then links the run to the work items its branch and commit message name; a key naming no
/// item becomes a warning on the run, and a failure to link is logged, never fails the run.
/// </summary>
public sealed class RunFactory(RunStore runs, WorkItemStore workItems, EnvironmentStore environments, ReleaseSettingsStore releaseSettings,
    VariableStore variables, KeyPatterns keyPatterns, MirrorDirectory mirrors, WorkSignal signal, TimeProvider clock, ILogger<RunFactory> log)
{
    /// <summary>
    /// A commit's pipeline file and message never change, so each commit is read from git and parsed once
    /// (the git processes cost more than everything else in starting a run). Bounded: cleared when full;
    /// files over <see cref="MaxCachedFileBytes"/> are not cached.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Project, string Commit), CommitFacts> _commits = new();
    private const int CommitCacheSize = 1024;
    private const long MaxCachedFileBytes = 64 * 1024;
    private const int MaxMessageChars = 64 * 1024;

    /// <summary>What a run needs from its commit: the parsed pipeline file (null: the commit has none), the message and author.</summary>
    private sealed record CommitFacts(PipelineParseResult? Pipeline, string? Message, string? Author);

    /// <param name="startedBy">The user who started the run, when one did (shown on the work items it links).</param>
    public async Task<long> StartAsync(ProjectRow project, string branch, string commit, string trigger, CancellationToken ct = default,
        string? startedBy = null)
    {
        var facts = await ReadCommitAsync(project, commit, ct);
        var parsed = facts.Pipeline;
        IReadOnlyList<string> errors = parsed is null
            ? [$"{PipelineParser.DefaultFileName}:1:1: the commit has no {PipelineParser.DefaultFileName} at the repository root"]
            : parsed.Errors.Select(e => e.ToString()).ToList();
        var plan = parsed is { IsValid: true } ? RunPlanner.Plan(parsed.Pipeline!, branch) : null;
        var protection = await releaseSettings.GetAsync(project);
        var branchProtected = protection.IsProtected(branch);
        if (plan is not null && DeployPools.Violations(plan, await environments.ReservedPoolsAsync()) is { Count: > 0 } reserved)
        {
            // A branch cannot put its code on the deploy agents: the run fails showing why, as for any invalid file.
            errors = reserved.Select(e => $"{PipelineParser.DefaultFileName}:1:1: {e}").ToList();
            plan = null;
        }
        if (plan is not null && !branchProtected && plan.Stages.Any(s => s.Jobs.Any(j => j.Secrets is { Count: > 0 }))
            && VariableProtection.Violations(plan, branch, branchProtected, await ProtectedSecretsAsync(project.Id)) is { Count: > 0 } refused)
        {
            // Nothing of the run starts: a job that would not get its secret fails here, before any job could run.
            errors = refused.Select(e => $"{PipelineParser.DefaultFileName}:1:1: {e}").ToList();
            plan = null;
        }

        var decision = ReleaseBranches.Decide(branch, branchProtected, parsed?.Pipeline?.Release, protection.ReleaseBranchList, protection.ProtectedTags);
        var (template, tag) = plan is not null && decision.Releases
            ? await ReleaseVersionAsync(project, commit, parsed!.Pipeline!.Release!, ct)
            : (null, null);
        var (runId, pools) = await runs.CreateAsync(
            new NewRun(project.Id, branch, commit, facts.Message, trigger, plan, errors, template, tag, Warnings: decision.Warnings,
                BranchProtected: branchProtected),
            clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var warning in decision.Warnings) log.LogWarning("run {RunId} of {Project} on {Branch}: {Warning}", runId, project.Name, branch, warning);
        foreach (var pool in pools) signal.Signal(WorkSignal.Pool(pool));
        // Without a key prefix no key can be found: most projects skip linking altogether.
        if (project.ItemKeyPrefix is not null)
        {
            var pattern = keyPatterns.For(project.ItemKeyPattern, out var patternError);
            await LinkWorkItemsAsync(new RunLinkFacts(project.Id, runId, branch, commit, facts.Message, facts.Author, startedBy,
                clock.GetUtcNow().ToUnixTimeMilliseconds(), project.ItemKeyPrefix, pattern, patternError));
        }
        log.LogInformation("run {RunId} of {Project} on {Branch} at {Commit} ({Trigger}): {State}",
            runId, project.Name, branch, commit[..12], trigger, plan is null ? "invalid pipeline file" : "queued");
        return runId;
    }

    /// <summary>
    /// The version template a green run of the release branch is released under, and the tag its <c>{tag}</c> takes.
    /// A template reading a tag that no tag of the commit matches gives no release (logged; the run goes on).
    /// </summary>
    private async Task<(string? Template, string? Tag)> ReleaseVersionAsync(ProjectRow project, string commit, ReleaseDefinition release, CancellationToken ct)
    {
        if (!release.UsesTag) return (release.VersionTemplate, null);
        var tag = await (await mirrors.ReadyAsync(project, commit, ct)).NewestTagAsync(commit, release.TagPattern!, ct);
        if (tag is null)
            log.LogWarning("{Project} {Commit}: no tag matching '{Pattern}' contains the commit, so its run makes no release", project.Name, commit[..12], release.TagPattern);
        return tag is null ? (null, null) : (release.VersionTemplate, tag);
    }

    /// <summary>The names of the project's protected secrets.</summary>
    private async Task<IReadOnlySet<string>> ProtectedSecretsAsync(long projectId) =>
        (await variables.ListAsync(projectId)).Where(v => v.IsSecret && v.IsProtected).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);

    private async Task LinkWorkItemsAsync(RunLinkFacts facts)
    {
        try
        {
            var warnings = await workItems.LinkRunAsync(facts);
            foreach (var warning in warnings) log.LogInformation("run {RunId}: {Warning}", facts.RunId, warning);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "run {RunId}: linking work items failed; the run goes on", facts.RunId);
        }
    }

    private async Task<CommitFacts> ReadCommitAsync(ProjectRow project, string commit, CancellationToken ct)
    {
        if (_commits.TryGetValue((project.Name, commit), out var known)) return known;
        var mirror = await mirrors.ReadyAsync(project, commit, ct);
        // The size first: a huge file is refused without loading it.
        var size = await mirror.FileSizeAsync(commit, PipelineParser.DefaultFileName, ct);
        var parsed = size is null ? null
            : PipelineParser.RefuseIfTooLarge(size.Value)
              ?? (await mirror.ReadFileAsync(commit, PipelineParser.DefaultFileName, ct) is { } text ? PipelineParser.Parse(text) : null);
        string? message = null, author = null;
        try { (author, message) = await mirror.CommitAuthorAndMessageAsync(commit, ct); }
        catch (GitException e) { log.LogWarning("could not read the message of {Commit}: {Error}", commit, e.Message); }
        if (message is { Length: > MaxMessageChars }) message = message[..MaxMessageChars] + "\n[…]";
        var facts = new CommitFacts(parsed, message, author);
        if ((size ?? 0) <= MaxCachedFileBytes)
        {
            if (_commits.Count >= CommitCacheSize) _commits.Clear();
            _commits[(project.Name, commit)] = facts;
        }
        return facts;
    }
}
