using Slipway.Contracts.Api;
using Slipway.Core.ChangeRequests;

namespace Slipway.Server.ChangeRequests;

/// <summary>Change request facts and rows to API shapes (the API and the pages show the same).</summary>
public static class ChangeRequestMapping
{
    public static ChangeRequestSummaryDto Summary(ChangeRequestRow r, string project) =>
        new(project, r.Number, r.Title, r.SourceBranch, r.TargetBranch, r.Author, r.State, r.HeadSha, UnixMs.To(r.CreatedAt), UnixMs.To(r.UpdatedAt),
            r.MergedBy, UnixMs.To(r.MergedAt), r.AutoMergeStrategy);

    public static MergeRulesDto Rules(string branch, MergeRules rules, string? by = null, long? at = null) =>
        new(branch, rules.RequiredApprovals, rules.DismissStaleApprovals, by, UnixMs.To(at));

    public static ChangeRequestDto ToDto(ChangeRequestFacts f, MergeStrategy? strategy)
    {
        var r = f.Row;
        var how = strategy ?? f.DefaultStrategy;
        var authors = f.CommitAuthors.ToDictionary(c => c.Sha);
        return new ChangeRequestDto(f.Project.Name, r.Number, r.Title, r.Description, r.SourceBranch, r.TargetBranch, r.Author, r.State,
            f.SourceHead, f.TargetHead, UnixMs.To(r.CreatedAt), UnixMs.To(r.UpdatedAt),
            r.MergedBy, UnixMs.To(r.MergedAt), r.MergeCommit, r.MergeStrategy, r.ClosedBy, UnixMs.To(r.ClosedAt),
            r.AutoMergeStrategy, r.AutoMergeBy, r.AutoMergeError, r.WarningList,
            f.Commits.Select(x => new ChangeRequestCommitDto(x.Sha, x.AuthorName, x.AuthorEmail, authors.GetValueOrDefault(x.Sha)?.AuthorUser,
                UnixMs.To(x.AuthoredAt), x.Subject, authors.GetValueOrDefault(x.Sha)?.PushedBy ?? [])).ToList(),
            f.Files.Select(x => new ChangedFileDto(x.Path, x.Added, x.Deleted)).ToList(),
            f.Merge?.ConflictingFiles ?? [],
            f.HeadRuns.Select(x => x.ToSummary()).ToList(),
            f.Reviews.Select(x => new ReviewDto(x.Reviewer, x.Verdict, x.Comment, x.HeadSha, UnixMs.To(x.At),
                MergeCheck.IsDismissed(x.ToReview(), f.SourceHead ?? r.HeadSha, f.Rules))).ToList(),
            f.Items.Select(i => new ReleaseItemDto(i.Key, i.Title, i.Kind)).ToList(),
            Rules(r.TargetBranch, f.Rules), how.Name(),
            r.StateValue == ChangeRequestState.Open ? f.Unmet(how).Select(u => new UnmetRuleDto(u.Rule, u.Message)).ToList() : []);
    }
}
