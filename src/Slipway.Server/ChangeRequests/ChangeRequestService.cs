using System.Text;
using Slipway.Core.ChangeRequests;
using Slipway.Core.Runs;
using Slipway.Core.WorkItems;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// Opens, reviews, closes and merges change requests. Reads branch heads, commits and diffs from the project's
/// mirror; merges there (an in-memory merge, so a conflict is found before anything is written) and pushes the
/// result to the origin with a plain push, which the origin refuses if the target moved meanwhile. Merges into
/// one target branch of one project are serialised by a database lock (every node), and the push refusal covers anyone else:
/// two near-simultaneous merges both land correctly or the second is refused with the reason, and the branch is
/// never rewritten. After a merge the detector fetches, so the target's run (and its release) starts at once.
/// </summary>
public sealed class ChangeRequestService(ChangeRequestStore store, MirrorDirectory mirrors, RunStore runs,
    UserStore users, ChangeRequestLinker linker, ChangeDetector detector, GitCredentials credentials, DatabaseLocks locks,
    MergesInFlight mergesInFlight, PushedCommitStore pushedCommits, TimeProvider clock)
{
    /// <summary>The lock that serialises state changes and merges into one target branch, on every node.</summary>
    private static string TargetLock(ProjectRow project, string targetBranch) => $"change-request-target:{project.Id}:{targetBranch}";

    /// <summary>How many commits of a change request are read (and checked for their authors): far above any real one.</summary>
    public const int MaxCommits = 10_000;

    public async Task<ChangeRequestRow> OpenAsync(ProjectRow project, string author, string? title, string? description, string? source,
        string? target, CancellationToken ct = default)
    {
        if (WorkItemText.CheckTitle(title) is { } titleError) throw new ArgumentException(titleError);
        var (text, descriptionError) = WorkItemText.NormaliseDescription(description);
        if (descriptionError is not null) throw new ArgumentException(descriptionError);
        if (string.IsNullOrWhiteSpace(source)) throw new ArgumentException("name the source branch ('source')");
        target = string.IsNullOrWhiteSpace(target) ? project.DefaultBranch : target;
        if (source == target) throw new ArgumentException($"the source and target are both '{source}'");

        var mirror = await mirrors.ReadyAsync(project, ct: ct);
        await FetchAsync(project, mirror, ct);
        var sourceHead = await BranchHeadAsync(mirror, source) ?? throw new ArgumentException($"project '{project.Name}' has no branch '{source}'");
        var targetHead = await BranchHeadAsync(mirror, target) ?? throw new ArgumentException($"project '{project.Name}' has no branch '{target}'");
        if ((await store.ListAsync(project.Id, "open")).FirstOrDefault(c => c.SourceBranch == source && c.TargetBranch == target) is { } open)
            throw new ConflictException($"change request #{open.Number} already proposes '{source}' into '{target}'");
        var commits = await mirror.CommitsBetweenAsync(targetHead, sourceHead, ct: ct);
        if (commits.Count == 0) throw new ArgumentException($"'{source}' has no commits that '{target}' lacks");

        var messages = await mirror.CommitMessagesAsync(sourceHead, targetHead, ct: ct);
        var (itemIds, warnings) = await linker.FindItemsAsync(project, [title, text, source, .. messages]);
        return await store.CreateAsync(new NewChangeRequest(project.Id, title!, text!, source, target, author, sourceHead, warnings, itemIds,
            clock.GetUtcNow().ToUnixTimeMilliseconds()));
    }

    /// <summary>Reads everything about the change request from the database and the mirror (fetching first when <paramref name="fetch"/>).</summary>
    public async Task<ChangeRequestFacts> GatherAsync(ProjectRow project, ChangeRequestRow row, bool fetch = false, CancellationToken ct = default)
    {
        var mirror = await mirrors.ReadyAsync(project, ct: ct);
        if (fetch) await FetchAsync(project, mirror, ct);
        var state = row.StateValue;
        string? sourceHead, targetHead;
        if (state == ChangeRequestState.Merged)
            (sourceHead, targetHead) = (row.HeadSha, row.TargetSha);
        else
            (sourceHead, targetHead) = (await BranchHeadAsync(mirror, row.SourceBranch), await BranchHeadAsync(mirror, row.TargetBranch));

        IReadOnlyList<CommitInfo> commits = [];
        IReadOnlyList<ChangedFile> files = [];
        MergeResult? merge = null;
        var ancestor = false;
        if (sourceHead is not null && targetHead is not null && await mirror.ResolveCommitAsync(sourceHead, ct) is not null)
        {
            // Every commit counts for actor-not-author, so the bound is far above any real change request.
            commits = await mirror.CommitsBetweenAsync(targetHead, sourceHead, MaxCommits, ct);
            files = await mirror.ChangedFilesAsync(targetHead, sourceHead, ct);
            if (state == ChangeRequestState.Open)
            {
                merge = await mirror.MergeTreeAsync(targetHead, sourceHead, ct);
                ancestor = await mirror.IsAncestorAsync(targetHead, sourceHead, ct);
            }
        }
        var authors = await AuthorsAsync(project, commits);
        var headRuns = sourceHead is null ? [] : await runs.ForCommitAsync(project.Id, sourceHead);
        var reviews = await store.ReviewsAsync(row.Id);
        var rules = await store.RulesAsync(project.Id, row.TargetBranch);
        var facts = new MergeFacts(state, row.Author, sourceHead ?? row.HeadSha, authors, reviews.Select(r => r.ToReview()).ToList(),
            PipelineOf(headRuns.FirstOrDefault()), merge?.ConflictingFiles ?? [], ancestor);
        return new ChangeRequestFacts(project, row, sourceHead, targetHead, commits, authors, files, merge, headRuns, reviews,
            await store.ItemsAsync(row.Id), rules, facts);
    }

    public async Task<string> DiffAsync(ChangeRequestFacts facts, CancellationToken ct = default) =>
        facts.SourceHead is { } head && facts.TargetHead is { } target && facts.Commits.Count > 0
            ? await (await mirrors.ReadyAsync(facts.Project, head, ct)).DiffAsync(target, head, ct)
            : "";

    /// <summary>Adds a review on the current head. The caller has applied <see cref="Reviews.MayGive"/> (with any override).</summary>
    public async Task AddReviewAsync(ChangeRequestFacts facts, string reviewer, ReviewVerdict verdict, string? comment)
    {
        ChangeRequestTransitions.EnsureOpen(facts.Row.Subject, facts.Row.StateValue, "review");
        comment = (comment ?? "").Replace("\r\n", "\n", StringComparison.Ordinal);
        if (comment.Length > Reviews.MaxCommentLength) throw new ArgumentException($"the comment is longer than {Reviews.MaxCommentLength} characters");
        if (comment.Any(c => char.IsControl(c) && c is not '\n' and not '\t')) throw new ArgumentException("the comment contains a control character");
        if (verdict == ReviewVerdict.Comment && comment.Trim().Length == 0) throw new ArgumentException("a comment needs text");
        if (facts.SourceHead is null) throw new ConflictException($"the source branch '{facts.Row.SourceBranch}' no longer exists");
        switch (await store.AddReviewAsync(facts.Row.Id, reviewer, verdict, comment, facts.SourceHead, clock.GetUtcNow().ToUnixTimeMilliseconds()))
        {
            case ApprovalWrite.NotAwaiting: throw new ChangeRequestTransitionException($"cannot review {facts.Row.Subject}: it is no longer open");
            case ApprovalWrite.AlreadyGiven:
                throw new ConflictException($"{reviewer} has already approved {facts.Row.Subject} at its head {facts.SourceHead[..12]}: an approval " +
                                            "counts once; another reviewer's approval is needed, or a new push to approve again");
        }
    }

    public async Task<ChangeRequestRow> SetStateAsync(ProjectRow project, ChangeRequestRow row, ChangeRequestState to, string by)
    {
        await using (await locks.AcquireAsync(TargetLock(project, row.TargetBranch)))
        {
            var current = await store.FindAsync(project.Id, row.Number) ?? throw new KeyNotFoundException($"no {row.Subject}");
            ChangeRequestTransitions.Ensure(current.Subject, current.StateValue, to);
            if (!await store.SetStateAsync(current.Id, current.StateValue, to, by, clock.GetUtcNow().ToUnixTimeMilliseconds()))
                throw new ChangeRequestTransitionException($"{current.Subject} changed state meanwhile; look again");
            return (await store.FindAsync(project.Id, row.Number))!;
        }
    }

    public async Task SetAutoMergeAsync(ChangeRequestRow row, string? by, MergeStrategy? strategy)
    {
        ChangeRequestTransitions.EnsureOpen(row.Subject, row.StateValue, "set auto-merge on");
        if (!await store.SetAutoMergeAsync(row.Id, by, strategy, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ChangeRequestTransitionException($"cannot set auto-merge on {row.Subject}: it is no longer open");
    }

    /// <summary>
    /// Merges when every rule holds, else throws <see cref="MergeBlockedException"/> listing each unmet rule.
    /// Returns the merged row and the commit now at the head of the target.
    /// </summary>
    public async Task<(ChangeRequestRow Row, ChangeRequestFacts Facts)> MergeAsync(ProjectRow project, long number, string by, MergeStrategy? strategy,
        CancellationToken ct = default)
    {
        var first = await store.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{project.Name}' has no change request {number}");
        await using (await locks.AcquireAsync(TargetLock(project, first.TargetBranch), ct))
        {
            var row = await store.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"no {first.Subject}");
            ChangeRequestTransitions.Ensure(row.Subject, row.StateValue, ChangeRequestState.Merged);
            var facts = await GatherAsync(project, row, fetch: true, ct);
            var how = strategy ?? facts.DefaultStrategy;
            if (facts.Unmet(how) is { Count: > 0 } unmet) throw new MergeBlockedException(row.Subject, unmet);
            var (head, target) = (facts.SourceHead!, facts.TargetHead!);

            var mirror = await mirrors.ReadyAsync(project, head, ct);
            var commit = how switch
            {
                MergeStrategy.FastForward => head,
                MergeStrategy.Squash => await mirror.CommitTreeAsync(facts.Merge!.Tree!, [target], SquashMessage(facts, by), await IdentityAsync(row.Author), ct),
                _ => await mirror.CommitTreeAsync(facts.Merge!.Tree!, [target, head], MergeMessage(facts, by), await IdentityAsync(by), ct),
            };
            await using var inFlight = await mergesInFlight.BeginAsync(project.Id, commit);
            try
            {
                // A hosted repository's pushes (users' and merges) take its lock: one writer at a time on the shared directory.
                await using var repository = detector.IsHosted(project) ? await locks.AcquireAsync(ProjectService.RepositoryLock(project), ct) : null;
                await mirror.PushAsync(commit, row.TargetBranch, credentials.For(project), ct);
            }
            catch (GitException e)
            {
                throw new ConflictException($"the push of {row.Subject} to '{row.TargetBranch}' was refused, so nothing was merged " +
                                            $"({PushRefusal.Explain(e.Message, row.TargetBranch)}): {e.Message}");
            }
            if (!await store.MarkMergedAsync(row.Id, by, commit, how, head, target, Reviews.Contributors(facts.CommitAuthors), clock.GetUtcNow().ToUnixTimeMilliseconds()))
                throw new InvalidOperationException($"{row.Subject} was pushed as {commit} but changed state meanwhile");
            // Start the target's run now rather than at the next poll; a fetch failure is recorded on the project.
            await detector.CheckAsync(project, CancellationToken.None);
            var merged = (await store.FindAsync(project.Id, number))!;
            return (merged, facts with { Row = merged });
        }
    }

    private async Task FetchAsync(ProjectRow project, RepositoryMirror mirror, CancellationToken ct)
    {
        try { await mirror.FetchAsync(ct, credentials.For(project)); }
        catch (GitException e) { throw new ConflictException($"cannot fetch the repository of '{project.Name}': {e.Message}"); }
    }

    private static Task<string?> BranchHeadAsync(RepositoryMirror mirror, string branch) =>
        branch.StartsWith('-') ? Task.FromResult<string?>(null) : mirror.ResolveCommitAsync("refs/heads/" + branch);

    /// <summary>
    /// Maps commit authors to users (the author's e-mail matching a user's, else the author's name being a username) and adds
    /// who pushed each commit into a hosted repository.
    /// </summary>
    private async Task<IReadOnlyList<ChangeCommit>> AuthorsAsync(ProjectRow project, IReadOnlyList<CommitInfo> commits)
    {
        if (commits.Count == 0) return [];
        var pushers = await pushedCommits.PushersAsync(project.Id, commits.Select(c => c.Sha).ToList());
        var all = await users.ListAsync();
        var byEmail = all.Where(u => !string.IsNullOrEmpty(u.Email)).GroupBy(u => u.Email!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Username, StringComparer.OrdinalIgnoreCase);
        var byName = all.ToDictionary(u => u.Username, u => u.Username, StringComparer.OrdinalIgnoreCase);
        return commits.Select(c => new ChangeCommit(c.Sha,
            byEmail.GetValueOrDefault(c.AuthorEmail) ?? byName.GetValueOrDefault(c.AuthorName), pushers.GetValueOrDefault(c.Sha))).ToList();
    }

    private async Task<CommitIdentity> IdentityAsync(string username)
    {
        var user = await users.FindAsync(username);
        return new CommitIdentity(string.IsNullOrWhiteSpace(user?.DisplayName) ? username : user.DisplayName!,
            string.IsNullOrWhiteSpace(user?.Email) ? $"{username}@users.slipway.invalid" : user.Email!);
    }

    public static HeadPipeline PipelineOf(RunRow? run) => run is null ? HeadPipeline.None : StatusNames.Parse(run.Status) switch
    {
        ExecutionStatus.Succeeded => HeadPipeline.Succeeded,
        var s when s.IsFinal() => HeadPipeline.Failed,
        _ => HeadPipeline.Running,
    };

    private static string MergeMessage(ChangeRequestFacts facts, string by)
    {
        var text = new StringBuilder($"Merge change request #{facts.Row.Number}: {facts.Row.Title}\n\n");
        if (facts.Row.Description.Trim().Length > 0) text.Append(facts.Row.Description.Trim()).Append("\n\n");
        return Trailers(text, facts, by);
    }

    private static string SquashMessage(ChangeRequestFacts facts, string by)
    {
        var text = new StringBuilder($"{facts.Row.Title} (change request #{facts.Row.Number})\n\n");
        if (facts.Row.Description.Trim().Length > 0) text.Append(facts.Row.Description.Trim()).Append("\n\n");
        foreach (var c in facts.Commits.Reverse()) text.Append("* ").Append(c.Sha[..12]).Append(' ').Append(c.Subject).Append('\n');
        text.Append('\n');
        return Trailers(text, facts, by);
    }

    private static string Trailers(StringBuilder text, ChangeRequestFacts facts, string by)
    {
        var approvers = MergeCheck.CountedApprovals(facts.MergeFacts, facts.Rules).Counted.Select(r => r.Reviewer);
        text.Append($"Change-Request: {facts.Project.Name}#{facts.Row.Number} ({facts.Row.SourceBranch} into {facts.Row.TargetBranch})\n");
        foreach (var a in approvers) text.Append($"Approved-by: {a}\n");
        text.Append($"Merged-by: {by}\n");
        return text.ToString();
    }
}
