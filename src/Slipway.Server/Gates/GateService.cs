using System.Globalization;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Gates;
using Slipway.Core.Policies;

namespace Slipway.Server.Gates;

/// <summary>
/// Quality gates: each environment's gates (server-side, audited; <see cref="GatesApi"/> checked gate.manage), the
/// checklist of a release for an environment (<see cref="GateChecklist"/> over the evidence gathered here), and sign-offs
/// (who may sign: <see cref="SignOffRules"/>). <see cref="DeploymentService"/> asks <see cref="ChecklistAsync"/> before it
/// creates a deployment.
/// </summary>
public sealed class GateService(ProjectStore projects, EnvironmentStore environments, EnvironmentService environmentService, ReleaseStore releases,
    DeploymentStore deployments, GateStore gates, MirrorDirectory mirrors, WorkItemService items, ArtifactFiles files, TimeProvider clock)
{
    public async Task<IReadOnlyList<GateDto>> ListAsync(string name, string env)
    {
        var (_, environment) = await environmentService.FindAsync(name, env);
        return (await gates.ListAsync(environment.Id)).Select(ToDto).ToList();
    }

    public async Task<GateDto> AddAsync(Actor actor, string name, string env, GateRequest? request)
    {
        if (request is null) throw new ArgumentException("the body must describe the gate: kind (verify, metric, signoff), measuredOn, rule, signOffKind, role");
        var (project, environment) = await environmentService.FindAsync(name, env);
        GateKind kind;
        MetricRule? rule = null;
        try
        {
            kind = GateDefinition.ParseKind(request.Kind);
            if (kind == GateKind.Metric && request.Rule is { } text) rule = MetricRuleParser.Parse(text);
        }
        catch (FormatException e) { throw new ArgumentException(e.Message); }
        var gate = new GateDefinition(0, kind, Clean(request.MeasuredOn), rule, kind == GateKind.SignOff ? Clean(request.SignOffKind) : null,
            kind == GateKind.SignOff ? Clean(request.Role) : null);
        if (gate.Check() is { } error) throw new ArgumentException(error);
        if (gate.MeasuredOn is { } on && on != GateDefinition.Ci)
        {
            var source = await environments.FindAsync(project.Id, on)
                         ?? throw new ArgumentException($"project '{name}' has no environment '{on}' to measure on");
            if (source.Id == environment.Id && kind != GateKind.SignOff)
                throw new ArgumentException($"a gate of '{env}' cannot require evidence from '{env}' itself: the release is not there yet");
        }
        // The same gate twice would be judged twice and listed twice, with nothing to tell the two apart (checked in the write).
        var (id, same) = await gates.AddAsync(environment.Id, gate, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (same is not null) throw new ConflictException($"'{env}' already has this gate (gate {same.Id}: {same.ToDefinition().Describe()})");
        await actor.AuditAsync(Actions.GateManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}", $"gate {id} added to '{env}': {gate.Describe()}");
        return ToDto((await gates.ListAsync(environment.Id)).Single(g => g.Id == id));
    }

    /// <summary>Removes the gate and answers what it was (the page says which one went).</summary>
    public async Task<GateDto> RemoveAsync(Actor actor, string name, string env, long id)
    {
        var (_, environment) = await environmentService.FindAsync(name, env);
        var gate = (await gates.ListAsync(environment.Id)).FirstOrDefault(g => g.Id == id)
                   ?? throw new KeyNotFoundException($"environment '{env}' of '{name}' has no gate {id}");
        if (!await gates.RemoveAsync(environment.Id, id)) throw new KeyNotFoundException($"environment '{env}' of '{name}' has no gate {id}");
        await actor.AuditAsync(Actions.GateManage, AuditOutcomes.Succeeded, $"project:{name} env:{env}", $"gate {id} removed from '{env}': {gate.ToDefinition().Describe()}");
        return ToDto(gate);
    }

    /// <summary>What a release brings wherever it goes (where it was verified, what it measured, its sign-offs): read once.</summary>
    private sealed record ReleaseFacts(IReadOnlySet<string> VerifiedOn, IReadOnlyDictionary<string, IReadOnlyList<MetricValue>> Measured,
        IReadOnlyList<SignOff> SignOffs)
    {
        public string? Rejection => SignOffRules.StandingRejection(SignOffs) is { } s ? $"{s.Kind} sign-off on '{s.Environment}' rejected by {s.By}: {Short(s.Notes)}" : null;
    }

    private async Task<ReleaseFacts> FactsAsync(ReleaseRow release) =>
        new(await gates.VerifiedOnAsync(release.Id), await gates.MeasuredAsync(release.Id),
            (await gates.SignOffsAsync(release.Id)).Select(s => s.ToSignOff()).ToList());

    /// <summary>The environment's gates judged for the release, in the order they were added, and a standing rejection.</summary>
    public async Task<GateJudgement> JudgeAsync(ProjectRow project, EnvironmentRow environment, ReleaseRow release) =>
        await JudgeAsync(environment, release, await FactsAsync(release));

    /// <summary>Every environment of the project judged for the release (the release page), the release's facts read once.</summary>
    public async Task<IReadOnlyList<(EnvironmentRow Environment, GateJudgement Judgement)>> JudgeEverywhereAsync(ProjectRow project, ReleaseRow release)
    {
        var facts = await FactsAsync(release);
        var judged = new List<(EnvironmentRow, GateJudgement)>();
        foreach (var environment in await environments.ListAsync(project.Id)) judged.Add((environment, await JudgeAsync(environment, release, facts)));
        return judged;
    }

    private async Task<GateJudgement> JudgeAsync(EnvironmentRow environment, ReleaseRow release, ReleaseFacts facts)
    {
        var defined = (await gates.ListAsync(environment.Id)).Select(g => g.ToDefinition()).ToList();
        if (defined.Count == 0) return new GateJudgement([], facts.Rejection);
        // The baseline of relative rules: the release current on the gated environment, as measured where the rule looks.
        var baselineId = await deployments.CurrentReleaseAsync(environment.Id);
        var baseline = baselineId is { } id && id != release.Id ? await releases.GetAsync(id) : null;
        var evidence = new GateEvidence(facts.VerifiedOn, facts.Measured, baseline?.Version,
            baseline is null || !defined.Any(g => g.Rule is { Relative: true }) ? new Dictionary<string, IReadOnlyList<MetricValue>>() : await gates.MeasuredAsync(baseline.Id),
            facts.SignOffs);
        return new GateJudgement(GateChecklist.Evaluate(defined, evidence), facts.Rejection);
    }

    public async Task<GateChecklistDto> ChecklistAsync(string name, string version, string env)
    {
        var (project, environment) = await environmentService.FindAsync(name, env);
        var release = await ReleaseOfAsync(project, version);
        var judged = await JudgeAsync(project, environment, release);
        return new GateChecklistDto(project.Name, release.Version, environment.Name, GateResult.OutcomeName(judged.Overall),
            judged.Results.Select(ToDto).ToList(), judged.Rejection, await deployments.CurrentReleaseAsync(environment.Id) == release.Id);
    }

    public async Task<IReadOnlyList<GateResultDto>> ResultsOfAsync(long deploymentId) =>
        (await gates.ResultsAsync(deploymentId)).Select(r => r.ToDto()).ToList();

    public async Task<IReadOnlyList<SignOffDto>> SignOffsAsync(string name, string version)
    {
        var (project, release) = await ReleaseOfAsync(name, version);
        var attachments = await gates.AttachmentsAsync(release.Id);
        return (await gates.SignOffsAsync(release.Id)).Select(s => ToDto(s, version, [], Attachments(project.Name, version, attachments[s.Id]))).ToList();
    }

    /// <summary>
    /// Checks a file offered as a sign-off's evidence: its name, its size and its kind read from its bytes. Returns the
    /// content type; refuses (400) anything else, so nothing is recorded half.
    /// </summary>
    public static string CheckAttachment(string? fileName, ReadOnlySpan<byte> content)
    {
        if (AttachmentRules.CheckName(fileName) is { } nameError) throw new ArgumentException(nameError);
        if (content.Length > AttachmentRules.MaxBytes) throw new ArgumentException($"{fileName} is larger than {AttachmentRules.MaxBytes / (1024 * 1024)} MiB");
        return AttachmentRules.Sniff(content) ?? throw new ArgumentException($"{fileName} is not one of {AttachmentRules.Allowed} (read from its content)");
    }

    /// <summary>Adds evidence to a sign-off: only its signer may, at most <see cref="AttachmentRules.MaxPerSignOff"/> files.</summary>
    public async Task<SignOffAttachmentDto> AttachAsync(Actor actor, string name, string version, long signOffId, string? fileName, byte[] content)
    {
        var (project, release) = await ReleaseOfAsync(name, version);
        var signOff = (await gates.SignOffsAsync(release.Id)).FirstOrDefault(s => s.Id == signOffId)
                      ?? throw new KeyNotFoundException($"release {version} of '{name}' has no sign-off #{signOffId}");
        if (signOff.SignedBy != actor.User.Username)
            throw new PolicyRefusedException($"only {signOff.SignedBy}, who gave sign-off #{signOffId}, may add evidence to it");
        var contentType = CheckAttachment(fileName, content);
        var (sha, size) = await files.StoreAsync(new MemoryStream(content, writable: false), CancellationToken.None);
        var id = await gates.AddAttachmentAsync(signOffId, fileName!, contentType, sha, size, AttachmentRules.MaxPerSignOff, clock.GetUtcNow().ToUnixTimeMilliseconds())
                 ?? throw new ConflictException($"sign-off #{signOffId} has {AttachmentRules.MaxPerSignOff} attachments already");
        await actor.AuditAsync(Actions.ReleaseSignOff, AuditOutcomes.Succeeded, $"project:{name} env:{signOff.Environment} release:{version}",
            $"attachment '{fileName}' ({contentType}, {size} bytes, sha256 {sha[..12]}) added to {signOff.Kind} sign-off #{signOffId}");
        return new SignOffAttachmentDto(id, fileName!, contentType, size, sha, AttachmentUrl(project.Name, version, signOffId, id));
    }

    /// <summary>An attachment's row and its bytes, checked against the digest recorded when it was added.</summary>
    public async Task<(SignOffAttachmentRow Row, Stream Content)> OpenAttachmentAsync(string name, string version, long signOffId, long attachmentId)
    {
        var (_, release) = await ReleaseOfAsync(name, version);
        var row = (await gates.AttachmentsAsync(release.Id))[signOffId].FirstOrDefault(a => a.Id == attachmentId)
                  ?? throw new KeyNotFoundException($"sign-off #{signOffId} of {version} has no attachment {attachmentId}");
        if (await files.DigestOfStoredAsync(row.Sha256, CancellationToken.None) != row.Sha256)
            throw new ConflictException($"attachment {attachmentId} no longer matches its recorded digest; it is not served");
        return (row, (await files.OpenReadAsync(row.Sha256, CancellationToken.None))!);
    }

    private async Task<(ProjectRow, ReleaseRow)> ReleaseOfAsync(string name, string version)
    {
        var project = await projects.RequireAsync(name);
        return (project, await ReleaseOfAsync(project, version));
    }

    private async Task<ReleaseRow> ReleaseOfAsync(ProjectRow project, string version) =>
        await releases.FindAsync(project.Id, version) ?? throw new KeyNotFoundException($"project '{project.Name}' has no release {version}");

    private static string AttachmentUrl(string project, string version, long signOffId, long id) =>
        $"/api/v1/projects/{Uri.EscapeDataString(project)}/releases/{Uri.EscapeDataString(version)}/signoffs/{signOffId}/attachments/{id}";

    private static IReadOnlyList<SignOffAttachmentDto> Attachments(string project, string version, IEnumerable<SignOffAttachmentRow> rows) =>
        rows.Select(a => new SignOffAttachmentDto(a.Id, a.Name, a.ContentType, a.Size, a.Sha256, AttachmentUrl(project, version, a.SignoffId, a.Id))).ToList();

    /// <summary>
    /// Records a sign-off. Refused (403) for a signer who wrote or merged a change in the release, or who lacks the role
    /// the environments' gates ask this kind of sign-off of; a rejection needs notes. Findings of an exploratory session
    /// may be filed as bugs (the signer needs item.write for that).
    /// </summary>
    public async Task<SignOffDto> SignAsync(Actor actor, string name, string version, SignOffRequest? request)
    {
        if (request?.Accept is not { } accepted) throw new ArgumentException("say whether the release is accepted: accept true or false");
        var kind = Clean(request.Kind) ?? throw new ArgumentException($"give the sign-off a kind: {string.Join(", ", GateDefinition.SignOffKinds)}");
        if (!GateDefinition.IsSignOffKind(kind)) throw new ArgumentException($"'{kind}' is not a sign-off kind: {string.Join(", ", GateDefinition.SignOffKinds)} or another lower-case word");
        if (SignOffRules.CheckNotes(accepted, request.Notes) is { } notesError) throw new ArgumentException(notesError);
        var findings = (request.Findings ?? []).Select(f => f.Trim()).Where(f => f.Length > 0).ToList();
        if (findings.Count > 50 || findings.Any(f => f.Length > 200)) throw new ArgumentException("at most 50 findings of up to 200 characters each");
        if (request.Charter is { Length: > 2000 }) throw new ArgumentException("a charter is limited to 2000 characters");
        if (request.Minutes is < 0 or > 100_000) throw new ArgumentException("minutes spent must be between 0 and 100000");
        var (project, environment) = await environmentService.FindAsync(name, Clean(request.Environment) ?? throw new ArgumentException("name the environment the release was tried on"));
        var release = await ReleaseOfAsync(project, version);
        var scope = new Scope(project.Name, environment.Name);
        if (request.FileFindings && findings.Count > 0 && !actor.User.Permissions.Can(Actions.ItemWrite, scope))
            throw new PolicyRefusedException($"{actor.User.Username} may not file findings as work items (item.write)");

        if (!actor.User.Permissions.Can(Actions.ReleaseSignOff, scope))
            throw new PolicyRefusedException($"user:{actor.User.Username} may not {Actions.ReleaseSignOff} on '{environment.Name}' of '{project.Name}'");
        // A sign-off says the release was tried on that environment: it must have run there.
        if (!(await deployments.SucceededOnAsync(release.Id)).Contains(environment.Name))
            throw new ConflictException($"release {version} has not been deployed to '{environment.Name}' (no successful deployment): a sign-off is given where it ran");
        var signerRoles = DeploymentService.InitiatorOf(actor.User, project.Name, environment.Name).Roles;
        var all = await environments.ListAsync(project.Id);
        var asking = (await gates.SignOffGatesAsync(project.Id, kind)).ToList();
        var asked = asking.Where(g => g.MeasuredOn is null || g.MeasuredOn == environment.Name).Select(g => g.Role!).Distinct().ToList();
        var guarded = all.Where(e => asking.Any(g => g.EnvironmentId == e.Id)).ToList();
        var decision = SignOffRules.MaySign(actor.User.Username, signerRoles, await AuthorsAndMergersAsync(project, release, guarded.Count > 0 ? guarded : all),
            asked, kind, version);
        if (decision is PolicyDecision.Refused refused)
        {
            await actor.AuditAsync(Actions.ReleaseSignOff, AuditOutcomes.Denied, $"project:{name} env:{environment.Name} release:{version}", refused.Message);
            throw new PolicyRefusedException(refused.Message);
        }
        var notes = (request.Notes ?? "").Trim();
        var id = await gates.AddSignOffAsync(release.Id, environment.Id, kind, accepted, notes, actor.User.Username, string.Join(",", signerRoles.Order()),
            Clean(request.Charter), request.Minutes, findings.Count > 0 ? string.Join("\n", findings) : null, clock.GetUtcNow().ToUnixTimeMilliseconds());
        await actor.AuditAsync(Actions.ReleaseSignOff, AuditOutcomes.Succeeded, $"project:{name} env:{environment.Name} release:{version}",
            $"{kind} sign-off of {version} on '{environment.Name}': {(accepted ? "accepted" : "rejected")}" + (notes.Length > 0 ? $" ({Short(notes)})" : ""));
        var filed = new List<string>();
        if (request.FileFindings)
            foreach (var finding in findings)
                filed.Add((await items.CreateAsync(actor, name, new CreateWorkItemRequest(finding,
                    $"Found in {kind} testing of release {version} on {environment.Name} (sign-off #{id} by {actor.User.Username}).", "bug"))).Key);
        var row = (await gates.SignOffsAsync(release.Id)).Single(s => s.Id == id);
        return ToDto(row, version, filed);
    }

    /// <summary>The rejection standing against the release (<see cref="SignOffRules.StandingRejection"/>), described, or null.</summary>
    public async Task<string?> StandingRejectionAsync(long releaseId) =>
        new ReleaseFacts(new HashSet<string>(), new Dictionary<string, IReadOnlyList<MetricValue>>(),
            (await gates.SignOffsAsync(releaseId)).Select(s => s.ToSignOff()).ToList()).Rejection;

    /// <summary>
    /// Who wrote or merged the changes this release brings where the sign-off counts: since the oldest release current on
    /// an environment whose gates ask for this kind of sign-off (every environment when none asks), so changes of an
    /// earlier release that never got there cannot be signed off by their own author as part of this one.
    /// </summary>
    private async Task<IReadOnlyList<string>> AuthorsAndMergersAsync(ProjectRow project, ReleaseRow release, IReadOnlyList<EnvironmentRow> guarded)
    {
        var currents = new List<long?>();
        foreach (var e in guarded) currents.Add(await deployments.CurrentReleaseAsync(e.Id));
        // An environment with nothing deployed yet receives everything from the start.
        var since = currents.Any(c => c is null) ? null
            : currents.Where(c => c < release.Id).Min() is { } oldest ? await releases.GetAsync(oldest)
            : await releases.PreviousAsync(project.Id, release.Id);
        try
        {
            var commits = (await (await mirrors.ReadyAsync(project, release.CommitSha)).CommitsBetweenAsync(since?.CommitSha, release.CommitSha, max: 5000)).Select(c => c.Sha).ToList();
            return await deployments.AuthorsAndMergersAsync(project.Id, commits);
        }
        catch (Git.GitException e)
        {
            // Fail closed: a sign-off whose signer cannot be checked is refused.
            throw new ConflictException($"{SignOffRules.NotAuthor}: cannot read the changes in {release.Version} to check who wrote them ({e.Message}); try again");
        }
    }


    private static GateDto ToDto(GateRow g) => new(g.Id, g.Kind, g.MeasuredOn, g.Rule, g.SignoffKind, g.Role, g.ToDefinition().Describe(), g.CreatedBy,
        DateTimeOffset.FromUnixTimeMilliseconds(g.CreatedAt));

    public static GateResultDto ToDto(GateResult r) => new(r.Gate.Describe(), GateResult.OutcomeName(r.Outcome), r.Detail, r.Measured, r.Baseline);

    private static SignOffDto ToDto(SignOffRow s, string version, IReadOnlyList<string> filed, IReadOnlyList<SignOffAttachmentDto>? attachments = null) =>
        s.ToDto(version, filed, attachments);

    private static string? Clean(string? text)
    {
        var t = text?.Trim();
        if (t is { Length: > 0 } && t.Any(c => char.IsControl(c) && c != '\n')) throw new ArgumentException("a value contains a control character");
        return string.IsNullOrEmpty(t) ? null : t;
    }

    private static string Short(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 199), "…");
}
