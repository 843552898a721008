using System.Data.Common;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Pipelines;
using Slipway.Core.Releases;
using Slipway.Core.WorkItems;
using Slipway.Core.Nodes;

namespace Slipway.Server.Releases;

/// <summary>
/// Makes a release from a succeeded run: the version from the commit's pipeline file (<c>release.version</c>
/// with the run number), the commit, the run's test summary and artifacts with their digests, the pipeline file's
/// text as a snapshot, and the work items named by the commits since the previous release, with notes grouped by
/// kind. Everything is gathered first and written in one transaction; a second release of one run is refused by
/// the store (and by UNIQUE(run_id) in a race). Only a run on one of the project's (protected) release branches is
/// released, and only while its commit is on that branch (the head or an ancestor): by hand as automatically, checked
/// again now because the settings or the branch may have changed since the run started.
/// </summary>
public sealed class ReleaseService(RunStore runs, ProjectStore projects, ReleaseStore releases, ReleaseSettingsStore releaseSettings,
    MirrorDirectory mirrors, KeyPatterns keyPatterns, GitCredentials credentials, DatabaseLocks locks, TimeProvider clock, ILogger<ReleaseService> log)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="createdBy">The user creating it by hand; null when created automatically.</param>
    /// <param name="expectedVersion">For automatic creation: the version noted when the run started.</param>
    public async Task<ReleaseRow> CreateAsync(long runId, string? createdBy, string? expectedVersion = null, CancellationToken ct = default)
    {
        var details = await runs.GetAsync(runId) ?? throw new KeyNotFoundException($"no run {runId}");
        var run = details.Run;
        if (run.Kind != RunKinds.Ci)
            throw new ConflictException($"run {runId} {(run.CheckId is null ? "deployed a release" : "ran a live check")}; only a build run can be released");
        var number = run.Number!.Value; // every CI run is numbered
        if (run.Status != "succeeded")
            throw new ConflictException($"run {runId} has status {run.Status}; only a succeeded run can be released");
        if (await releases.ForRunAsync(runId) is { } already)
            throw new ConflictException($"run {runId} was released already, as version {already.Version}");
        var project = await projects.FindAsync(run.ProjectName) ?? throw new KeyNotFoundException($"no project of run {runId}");
        var mirror = await mirrors.ReadyAsync(project, run.CommitSha);
        var protection = await releaseSettings.GetAsync(project);
        if (!protection.Releases(run.Branch))
            throw new ConflictException(ReleaseBranches.NotAReleaseBranch(number, run.Branch, protection.ReleaseBranchList));
        // A run made while its branch was protected built a commit of that branch then. Any other (made before an admin
        // protected the name) is judged against the branch as it is now, not as the last poll saw it: the name may have
        // been reset away from an unreviewed commit moments ago.
        if (run.BranchProtected != 1)
        {
            try { await mirror.FetchAsync(ct, credentials.For(project)); }
            catch (GitException e) { throw new ConflictException($"cannot fetch the repository of '{project.Name}' to check run #{number}'s commit is on '{run.Branch}': {e.Message}"); }
        }
        var head = await mirror.BranchHeadAsync(run.Branch, ct)
                   ?? throw new ConflictException($"commit-on-branch: branch '{run.Branch}' of run #{number} no longer exists, so its commit is not on it");
        if (head != run.CommitSha && !await OnBranchAsync(mirror, run.CommitSha, head, ct))
            throw new ConflictException(ReleaseBranches.NotOnBranch(run.CommitSha, run.Branch));

        var snapshot = await mirror.ReadFileAsync(run.CommitSha, PipelineParser.DefaultFileName, ct)
                       ?? throw new ConflictException($"commit {run.CommitSha[..12]} has no {PipelineParser.DefaultFileName}");
        var parsed = PipelineParser.Parse(snapshot);
        var release = parsed.Pipeline?.Release
                      ?? throw new ConflictException($"the pipeline file of commit {run.CommitSha[..12]} has no 'release:' section, so it names no version");
        string? tag = null;
        if (expectedVersion is null && release.UsesTag)
            tag = await mirror.NewestTagAsync(run.CommitSha, release.TagPattern!, ct)
                  ?? throw new ConflictException($"no tag matching '{release.TagPattern}' contains commit {run.CommitSha[..12]}, so it has no version");
        var version = expectedVersion ?? release.VersionFor(number, tag);

        // One release of a project at a time from its lineage read to its insert, on every node: two releases made at the
        // same instant each see the other among the earlier ones or come after it, never miss it as a parent. Held to the end.
        await using var lineageLock = await locks.AcquireAsync(LineageLock(project.Id), ct, wait: TimeSpan.FromMinutes(1));
        // Its parents: the nearest earlier releases its commit descends from (not merely the newest release: that may be a
        // hotfix on another branch). Its notes are the commits none of them has.
        // When git cannot tell (an error, too many branches to ask about), its parents stay unknown: the rule of before.
        var earlier = await releases.LineageAsync(project.Id);
        var commitOf = earlier.ToDictionary(r => r.Id, r => r.CommitSha);
        IReadOnlyList<long>? parents;
        try
        {
            parents = await ReleaseLineage.ParentsAsync(earlier.Select(r => new LineageRelease(r.Id, r.Parents)).ToList(),
                id => mirror.IsAncestorAsync(commitOf[id], run.CommitSha, ct));
        }
        catch (Git.GitException e)
        {
            log.LogWarning("release of run {Run} of {Project}: which earlier releases it contains is unknown ({Error}); it is taken to contain all of them", runId, project.Name, e.Message);
            parents = null;
        }
        var since = parents?.Select(p => commitOf[p]).ToList() ?? earlier.TakeLast(1).Select(r => r.CommitSha).ToList();
        var messages = await mirror.CommitMessagesAsync(run.CommitSha, since, ct: ct);
        var items = new List<ReleaseItemRow>();
        // With the project's key pattern, as runs link; a pattern that cannot be used or runs out of time leaves
        // items out of the notes but never stops the release.
        if (project.ItemKeyPrefix is { } prefix && keyPatterns.For(project.ItemKeyPattern, out _) is { } pattern)
        {
            var byNumber = await releases.ItemsByNumberAsync(project.Id);
            foreach (var key in KeyFinder.Find(messages, pattern, prefix).Keys)
                if (byNumber.TryGetValue(key.Number, out var item) && !items.Contains(item)) items.Add(item);
        }
        var notes = ReleaseNotes.Generate(version,
            items.Select(i => new ReleaseNoteItem(i.Key, i.Title, WorkItemKinds.Parse(i.Kind) ?? WorkItemKind.Chore)));

        var (artifacts, summaries) = await releases.RunOutputsAsync(runId);
        var testSummary = Summarise(summaries);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            await releases.CreateAsync(new NewRelease(project.Id, version, runId, run.CommitSha, run.Branch, now, createdBy,
                snapshot, testSummary, notes, artifacts, items.Select(i => i.ItemId).ToList(), parents));
        }
        catch (DbException)
        {
            // A racing writer won on UNIQUE(run_id) or UNIQUE(project_id, version).
            if (await releases.ForRunAsync(runId) is { } raced)
                throw new ConflictException($"run {runId} was released already, as version {raced.Version}");
            if (await releases.FindAsync(project.Id, version) is not null)
                throw new ConflictException($"version {version} was released already; releases are immutable");
            throw;
        }
        return await releases.ForRunAsync(runId) ?? throw new InvalidOperationException("the new release vanished");
    }

    /// <summary>The lock under which a project's releases are made one at a time (their parents are read, then written).</summary>
    public static string LineageLock(long projectId) => $"release-lineage:{projectId}";

    /// <summary>Releases a run of the project by hand, as the actor, and audits it (the API and the web UI's forms).</summary>
    public async Task<ReleaseRow> CreateByHandAsync(Actor actor, string name, long runId)
    {
        var project = await projects.RequireAsync(name);
        var run = await runs.GetAsync(runId);
        if (run is null || run.Run.ProjectId != project.Id) throw new KeyNotFoundException($"project '{name}' has no run {runId}");
        var user = actor.User.Username;
        var release = await CreateAsync(runId, user);
        await actor.AuditAsync(Actions.ReleaseCreate, AuditOutcomes.Succeeded, $"project:{name} release:{release.Version}",
            $"release {release.Version} created by hand from run {release.RunNumber} on {release.Branch} at {release.CommitSha[..12]} ({release.Items} work items, {release.Artifacts} artifacts)");
        return release;
    }

    /// <summary>Whether the commit is an ancestor of the head; a commit git no longer has (a branch rewritten, then pruned) is not.</summary>
    private static async Task<bool> OnBranchAsync(Git.RepositoryMirror mirror, string commit, string head, CancellationToken ct)
    {
        try { return await mirror.IsAncestorAsync(commit, head, ct); }
        catch (Git.GitException e) { throw new ConflictException($"commit-on-branch: cannot tell whether commit {commit[..12]} is on the branch: {e.Message}"); }
    }

    /// <summary>The jobs' test summaries added up (null when no job reported tests).</summary>
    private static string? Summarise(IReadOnlyList<string> summaries)
    {
        if (summaries.Count == 0) return null;
        var parts = summaries.Select(s => JsonSerializer.Deserialize<TestSummaryViewDto>(s, Json)).Where(s => s is not null).ToList();
        return JsonSerializer.Serialize(new TestSummaryViewDto(parts.Sum(p => p!.Passed), parts.Sum(p => p!.Failed), parts.Sum(p => p!.Skipped),
            parts.SelectMany(p => p!.Failures).Take(50).ToList()), Json);
    }
}

/// <summary>
/// Creates the releases of succeeded runs on their release branch. Looks for them in the database (a run notes its
/// release version when it starts), so a crash between a run succeeding and its release being written only delays
/// the release; a release that cannot be made (the version is taken) is given up with the reason on the run and
/// in the audit log, and never retried. Audited as the system.
/// </summary>
public sealed class ReleaseCreator(ReleaseService service, ReleaseStore releases, AuditLog audit, ServerOptions options, TimeProvider clock,
    ILogger<ReleaseCreator> log, DutyLeases leases) : PeriodicWorker(log, clock, leases, Duties.ReleaseCreation)
{
    protected override TimeSpan Interval => options.ReleaseCreatorInterval;
    protected override string Name => "creating releases";
    protected override Task PassAsync(CancellationToken ct) => CreatePendingAsync(ct);

    public async Task CreatePendingAsync(CancellationToken ct)
    {
        foreach (var pending in await releases.PendingAsync())
        {
            try
            {
                var release = await service.CreateAsync(pending.RunId, null, pending.ReleaseVersion, ct);
                await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.ReleaseCreate,
                    $"release:{release.Version} run:{release.RunId}", AuditOutcomes.Succeeded,
                    $"release {release.Version} created automatically from run {release.RunNumber} on {release.Branch} at {release.CommitSha[..12]} ({release.Items} work items, {release.Artifacts} artifacts)"));
                log.LogInformation("release {Version} created from run {RunId}", release.Version, release.RunId);
            }
            catch (ConflictException e)
            {
                if (await releases.ForRunAsync(pending.RunId) is not null) continue; // made by hand meanwhile
                await releases.GiveUpAsync(pending.RunId, e.Message);
                await audit.RecordAsync(new AuditRecord(AuditActorKinds.System, "slipway", null, Actions.ReleaseCreate,
                    $"run:{pending.RunId}", AuditOutcomes.Failed, $"release {pending.ReleaseVersion} of run {pending.RunId} not created: {e.Message}"));
                log.LogWarning("release of run {RunId} given up: {Error}", pending.RunId, e.Message);
            }
            catch (LockBusyException e)
            {
                // Another node or request is making a release of this project: this one waits for the next pass.
                log.LogInformation("release of run {RunId} waits for the next pass: {Reason}", pending.RunId, e.Message);
            }
        }
    }
}
