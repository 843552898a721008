using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.ChangeRequests;

namespace Slipway.Server.ChangeRequests;

/// <summary>
/// What people ask of change requests, whichever door they come through (the API, the web UI's forms): open, review,
/// merge, close, reopen, auto-merge, and the facts of one. Checks what the endpoint's action cannot (merging needs
/// cr.merge to set auto-merge; a review goes through the segregation-of-duties policy), runs the workflow
/// (<see cref="ChangeRequestService"/>) and writes the audit entry of the outcome. Answers are facts as they are after
/// the change, mapped to the wire by <see cref="ChangeRequestMapping"/>.
/// </summary>
public sealed class ChangeRequestCommands(ProjectStore projects, ChangeRequestStore store, ChangeRequestService service)
{
    public async Task<(ProjectRow Project, IReadOnlyList<ChangeRequestRow> Rows)> ListAsync(string name, string? state)
    {
        if (!string.IsNullOrEmpty(state) && ChangeRequestTransitions.Parse(state) is null)
            throw new ArgumentException($"unknown state '{state}'; states are open, merged, closed");
        var project = await projects.RequireAsync(name);
        return (project, await store.ListAsync(project.Id, string.IsNullOrEmpty(state) ? null : state));
    }

    /// <summary>Opens a change request (and sets auto-merge when asked and allowed).</summary>
    public async Task<ChangeRequestFacts> OpenAsync(Actor actor, string name, OpenChangeRequestRequest? request, CancellationToken ct)
    {
        if (request is null) throw new ArgumentException("the body must be {\"title\", \"source\", \"target\"?, \"description\"?, \"autoMerge\"?}");
        var project = await projects.RequireAsync(name);
        var user = actor.User;
        MergeStrategy? autoMerge = request.AutoMerge is null ? null : MergeStrategies.Parse(request.AutoMerge);
        if (autoMerge is not null && !user.Permissions.CanOnProject(Actions.ChangeRequestMerge, project.Name))
            throw new PolicyRefusedException($"{user.Username} may not merge in '{project.Name}', so cannot set a change request to merge by itself");
        var row = await service.OpenAsync(project, user.Username, request.Title, request.Description, request.Source, request.Target, ct);
        await actor.AuditAsync(Actions.ChangeRequestWrite, AuditOutcomes.Succeeded, Target(name, row.Number),
            $"change request #{row.Number} opened: {row.SourceBranch} into {row.TargetBranch} at {row.HeadSha[..12]}: {row.Title}");
        if (autoMerge is { } strategy)
        {
            await service.SetAutoMergeAsync(row, user.Username, strategy);
            await actor.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, row.Number),
                $"auto-merge ({strategy.Name()}) set on change request #{row.Number}");
        }
        return await service.GatherAsync(project, (await store.FindAsync(project.Id, row.Number))!, ct: ct);
    }

    /// <summary>Everything about one change request as it is now (no fetch); 404 for an unknown project or number.</summary>
    public async Task<ChangeRequestFacts> FactsAsync(string name, long number, CancellationToken ct)
    {
        var (project, row) = await FindAsync(name, number);
        return await service.GatherAsync(project, row, ct: ct);
    }

    public async Task<string> DiffAsync(string name, long number, CancellationToken ct) =>
        await service.DiffAsync(await FactsAsync(name, number, ct), ct);

    public async Task<ChangeRequestFacts> ReviewAsync(Actor actor, string name, long number, ReviewRequest? request, CancellationToken ct)
    {
        var verdict = Reviews.Parse(request?.Verdict);
        var (project, row) = await FindAsync(name, number);
        var facts = await service.GatherAsync(project, row, fetch: true, ct);
        var user = actor.User.Username;
        ChangeRequestTransitions.EnsureOpen(row.Subject, row.StateValue, "review");
        await PolicyGate.EnforceAsync(actor, Actions.ChangeRequestReview, Reviews.MayGive(user, verdict, row.Author, facts.CommitAuthors), request!.OverrideReason, Target(name, number));
        await service.AddReviewAsync(facts, user, verdict, request.Comment);
        await actor.AuditAsync(Actions.ChangeRequestReview, AuditOutcomes.Succeeded, Target(name, number),
            $"{verdict.Name()} on change request #{number} at {facts.SourceHead![..12]}");
        return await service.GatherAsync(project, (await store.FindAsync(project.Id, number))!, ct: ct);
    }

    public async Task<ChangeRequestFacts> MergeAsync(Actor actor, string name, long number, string? strategyName, CancellationToken ct)
    {
        MergeStrategy? strategy = strategyName is null ? null : MergeStrategies.Parse(strategyName);
        var project = await projects.RequireAsync(name);
        try
        {
            var (row, facts) = await service.MergeAsync(project, number, actor.User.Username, strategy, ct);
            await actor.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, number),
                $"change request #{number} merged ({row.MergeStrategy}) into {row.TargetBranch} as {row.MergeCommit![..12]}");
            return facts;
        }
        catch (Exception e) when (e is MergeBlockedException or ConflictException or ChangeRequestTransitionException)
        {
            await actor.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Failed, Target(name, number), e.Message);
            throw;
        }
    }

    /// <summary>Close (open → closed) or reopen (closed → open); the transition is checked by the workflow.</summary>
    public async Task<ChangeRequestFacts> SetStateAsync(Actor actor, string name, long number, ChangeRequestState to, CancellationToken ct)
    {
        var (project, row) = await FindAsync(name, number);
        var changed = await service.SetStateAsync(project, row, to, actor.User.Username);
        await actor.AuditAsync(Actions.ChangeRequestWrite, AuditOutcomes.Succeeded, Target(name, number),
            $"change request #{number} {(to == ChangeRequestState.Closed ? "closed" : "reopened")}");
        return await service.GatherAsync(project, changed, ct: ct);
    }

    /// <summary>Sets (in the actor's name: it merges later as them) or clears auto-merge.</summary>
    public async Task<ChangeRequestFacts> AutoMergeAsync(Actor actor, string name, long number, AutoMergeRequest? request, CancellationToken ct)
    {
        if (request is null) throw new ArgumentException("the body must be {\"enabled\": true, \"strategy\": \"merge\"}");
        var (project, row) = await FindAsync(name, number);
        MergeStrategy? strategy = request.Enabled ? MergeStrategies.Parse(request.Strategy ?? "merge") : null;
        await service.SetAutoMergeAsync(row, request.Enabled ? actor.User.Username : null, strategy);
        await actor.AuditAsync(Actions.ChangeRequestMerge, AuditOutcomes.Succeeded, Target(name, number),
            strategy is { } s ? $"auto-merge ({s.Name()}) set on change request #{number}" : $"auto-merge turned off on change request #{number}");
        return await service.GatherAsync(project, (await store.FindAsync(project.Id, number))!, ct: ct);
    }

    private async Task<(ProjectRow, ChangeRequestRow)> FindAsync(string name, long number)
    {
        var project = await projects.RequireAsync(name);
        return (project, await store.FindAsync(project.Id, number) ?? throw new KeyNotFoundException($"project '{name}' has no change request {number}"));
    }

    private static string Target(string project, long number) => $"project:{project} cr:{number}";
}
