using System.Text.Json;
using System.Text.Json.Serialization;

namespace Slipway.Core.Checks;

/// <summary>One alert about a live check, as delivered to a webhook.</summary>
public sealed record CheckAlert(string Event, string Project, string Environment, long CheckId, string Check, string? Release, long? Deployment,
    string Detail, DateTimeOffset At);

/// <summary>
/// The body of an alert for each webhook format: <c>json</c> (the fields of <see cref="CheckAlert"/>, for any receiver)
/// or <c>slack</c> (an incoming-webhook message: <c>{"text": "..."}</c>).
/// </summary>
public static class AlertPayload
{
    public const string Json = "json";
    public const string Slack = "slack";
    public static readonly IReadOnlyList<string> Formats = [Json, Slack];

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static string Body(string format, CheckAlert alert) => format switch
    {
        Json => JsonSerializer.Serialize(new
        {
            @event = alert.Event, project = alert.Project, environment = alert.Environment, check = alert.Check, checkId = alert.CheckId,
            release = alert.Release, deployment = alert.Deployment, detail = alert.Detail, at = alert.At,
        }, Options),
        Slack => JsonSerializer.Serialize(new { text = Text(alert) }, Options),
        _ => throw new ArgumentException($"unknown alert format '{format}': {string.Join(", ", Formats)}"),
    };

    /// <summary>One line for a person.</summary>
    public static string Text(CheckAlert a)
    {
        var what = a.Event switch
        {
            CheckVerdict.RolledBack => "failed inside the watch window: rolling back automatically",
            CheckVerdict.NeedsDecision => "failed inside the watch window: a person must decide whether to roll back",
            CheckVerdict.Recovered => "recovered",
            _ => "failed",
        };
        var release = a.Release is null ? "" : $" (release {a.Release}{(a.Deployment is { } d ? $", deployment #{d}" : "")})";
        return $"[{a.Project}/{a.Environment}] check {a.Check} {what}{release}: {a.Detail}";
    }
}
