using System.Globalization;
using Slipway.Contracts.Agents;
using Slipway.Core.Gates;

namespace Slipway.Server.Gates;

/// <summary>
/// Takes the metrics file a job handed back when it ended (<see cref="FinishJobRequest.Metrics"/>), parses it strictly
/// (<see cref="MetricsParser"/>) and stores its values with the run. Only the file the job's spec names is read: an agent
/// cannot add metrics to a job that did not ask for them.
/// </summary>
public sealed class MetricsRecorder(GateStore gates, LogStore logs)
{
    /// <summary>Null when the job asked for no metrics or they were recorded; else why not (the job then fails).</summary>
    public async Task<string?> RecordAsync(long jobId, long runId, string? expected, MetricsFileContent? reported, long now)
    {
        if (expected is null) return null;
        string error;
        if (reported is null || reported.Path != expected) error = $"metrics: {expected}: the agent did not hand the file back";
        else if (reported.Error is { } agentError) error = $"metrics: {expected} {agentError}";
        else if (reported.Text is null || reported.Text.Length > MetricsFileContent.MaxBytes) error = $"metrics: {expected}: larger than 1 MiB";
        else
        {
            var parsed = MetricsParser.Parse(expected, reported.Text);
            if (parsed.Ok)
            {
                await gates.RecordMetricsAsync(jobId, runId, expected, parsed.Format!, parsed.Values, now);
                await logs.AppendNoteAsync(jobId, $"metrics: {expected} read as {parsed.Format}: {parsed.Values.Count} values recorded ({Sample(parsed.Values)})");
                return null;
            }
            error = $"metrics: {parsed.Error}";
        }
        // What an earlier attempt of this job measured is not this attempt's evidence.
        await gates.RecordMetricsAsync(jobId, runId, expected, "none", [], now);
        await logs.AppendNoteAsync(jobId, error);
        return error;
    }

    private static string Sample(IReadOnlyList<MetricValue> values) =>
        string.Join(", ", values.Where(v => v.Metric is "http_req_duration" or "requests" or "errors").Take(4)
            .DefaultIfEmpty(values[0]).Select(v => $"{v.Metric} {v.Stat} {v.Value.ToString("0.###", CultureInfo.InvariantCulture)}{(v.Unit is { } u ? " " + u : "")}"));
}
