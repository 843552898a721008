using System.Text.Json;
using Slipway.Contracts.Api;

namespace Slipway.Server.Runs;

/// <summary>Run, job and artifact rows to API shapes.</summary>
public static class RunMapping
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RunSummaryDto ToSummary(this RunRow r) =>
        new(r.Id, r.ProjectName, (int?)r.Number, r.Branch, r.CommitSha, r.Status, UnixMs.To(r.CreatedAt), UnixMs.To(r.StartedAt), UnixMs.To(r.FinishedAt),
            r.Kind, r.DeploymentNumber, r.Trigger);

    /// <param name="waiting">Why queued jobs wait, when no agent of their pool is connected (<see cref="Agents.PoolPresence"/>).</param>
    public static RunDto ToDto(this RunDetails d, string? waiting = null)
    {
        var r = d.Run;
        var lint = r.LintErrors is null ? [] : JsonSerializer.Deserialize<List<string>>(r.LintErrors) ?? [];
        var stages = d.Stages.Select(s => new StageDto(s.Name, s.Status, UnixMs.To(s.StartedAt), UnixMs.To(s.FinishedAt),
            d.Jobs.Where(j => j.StageIdx == s.Idx).Select(ToDto).ToList())).ToList();
        var artifacts = d.Artifacts.Select(a => new ArtifactDto(a.JobName, a.Path, a.Sha256, a.Size)).ToList();
        var warnings = r.Warnings is null ? [] : JsonSerializer.Deserialize<List<string>>(r.Warnings) ?? [];
        return new RunDto(r.Id, r.ProjectName, (int?)r.Number, r.Branch, r.CommitSha, r.CommitMessage, r.Trigger, r.Status,
            UnixMs.To(r.CreatedAt), UnixMs.To(r.StartedAt), UnixMs.To(r.FinishedAt), r.FailureReason, lint, stages, artifacts, warnings,
            r.Kind, r.DeploymentNumber, waiting, UnixMs.To(r.RetriedAt));
    }

    public static JobDto ToDto(this JobRow j) =>
        new(j.Id, j.Name, j.Status, j.Pool, (int)j.Attempt, j.AgentName, j.ExitCode is { } e ? (int)e : null, j.FailureReason,
            UnixMs.To(j.CreatedAt), UnixMs.To(j.StartedAt), UnixMs.To(j.FinishedAt),
            j.TestSummary is null ? null : JsonSerializer.Deserialize<TestSummaryViewDto>(j.TestSummary, Json),
            j.LogBytes, j.LogTruncated != 0, j.FailureKind,
            j.AttemptMarks is { Length: > 0 } marks ? marks.Split(' ', StringSplitOptions.RemoveEmptyEntries) : []);

    public static string SerializeSummary(TestSummaryViewDto summary) => JsonSerializer.Serialize(summary, Json);
}
