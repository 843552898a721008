namespace Slipway.Contracts.Api;

/// <summary>POST /projects/{name}/environments/{env}/gates: kind verify (measuredOn), metric (rule, measuredOn) or signoff (signOffKind, role, measuredOn optional).</summary>
public sealed record GateRequest(string? Kind, string? MeasuredOn = null, string? Rule = null, string? SignOffKind = null, string? Role = null);

public sealed record GateDto(long Id, string Kind, string? MeasuredOn, string? Rule, string? SignOffKind, string? Role, string Description,
    string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>One gate judged for a release: outcome passed, failed or inconclusive.</summary>
public sealed record GateResultDto(string Gate, string Outcome, string Detail, double? Measured, double? Baseline);

/// <summary>
/// GET /projects/{name}/releases/{version}/gates?env=E: what the release still needs before it may go to E. Rejection: a
/// standing sign-off rejection of the release (which blocks it everywhere; Overall is then failed), or null.
/// </summary>
/// <param name="CurrentThere">The release is the environment's current one already: the checklist says whether today's gates would let it in.</param>
public sealed record GateChecklistDto(string Project, string Release, string Environment, string Overall, IReadOnlyList<GateResultDto> Gates,
    string? Rejection = null, bool CurrentThere = false);

/// <summary>POST /projects/{name}/releases/{version}/signoffs. Exploratory sessions add a charter, minutes spent and findings (one per entry).</summary>
public sealed record SignOffRequest(string? Environment, string? Kind, bool? Accept, string? Notes = null, string? Charter = null, int? Minutes = null,
    IReadOnlyList<string>? Findings = null, bool FileFindings = false);

public sealed record SignOffDto(long Id, string Release, string Environment, string Kind, string Verdict, string Notes, string SignedBy, DateTimeOffset SignedAt,
    string? Charter, long? Minutes, IReadOnlyList<string> Findings, IReadOnlyList<string> FiledItems, IReadOnlyList<SignOffAttachmentDto>? Attachments = null);

/// <summary>Evidence kept with a sign-off (POST .../signoffs/{id}/attachments?name=N, the file as the body): an image, a PDF or text.</summary>
public sealed record SignOffAttachmentDto(long Id, string Name, string ContentType, long Size, string Sha256, string Url);

/// <summary>A value a job's metrics file reported (GET /runs/{id}/metrics).</summary>
public sealed record MetricDto(string Job, string Metric, string Stat, double Value, string? Unit, string File, string Format);
