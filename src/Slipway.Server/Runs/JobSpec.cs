using System.Text.Json;

namespace Slipway.Server.Runs;

/// <summary>
/// What a job runs, fixed when the run is planned (stored as JSON in jobs.spec). <see cref="Secrets"/> holds
/// only the names of the secrets the job asked for (null in rows written before secrets existed); their values
/// are decrypted at lease time and never stored here. <see cref="Rollout"/>: a rolling deployment's plan (Contracts RolloutJob as JSON).
/// <see cref="Metrics"/>: the metrics file the agent hands back when the job ends (docs/gates.md).
/// </summary>
public sealed record JobSpec(
    string Script,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyList<string> Artifacts,
    IReadOnlyList<string> Reports,
    int TimeoutSeconds,
    IReadOnlyList<string>? Secrets = null,
    string? Rollout = null,
    string? Metrics = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public static JobSpec FromJson(string json) => JsonSerializer.Deserialize<JobSpec>(json, Json)!;
}
