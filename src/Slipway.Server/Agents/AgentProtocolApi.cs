using Slipway.Core.Audit;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts;
using Slipway.Contracts.Agents;
using Slipway.Contracts.Api;
using Slipway.Core.Runs;
using Slipway.Core.Access;

namespace Slipway.Server.Agents;

/// <summary>
/// The server side of the agent protocol (<see cref="IAgentProtocol"/>, routes in <see cref="AgentRoutes"/>; docs/agent-protocol.md). Every call after <c>register</c> is
/// authorized by the agent's own credential and, for a job, by the lease id it was handed: a call with a
/// lost lease gets 409 and the agent must abandon the job.
/// </summary>
public static partial class AgentProtocolApi
{
    public static void MapAgentProtocolApi(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup(AgentRoutes.Prefix);
        agent.MapPost(AgentRoutes.Register, RegisterAsync).RequireAction(Actions.AgentRegister);
        agent.MapPost(AgentRoutes.Poll, PollAsync).RequireAction(Actions.AgentHeartbeat).WaitsByDesign();
        agent.MapGet(AgentRoutes.Source, SourceAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.Start, StartAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.Renew, RenewAsync).RequireAction(Actions.AgentHeartbeat).WaitsByDesign();
        agent.MapPost(AgentRoutes.Log, AppendLogAsync).RequireAction(Actions.AgentHeartbeat);
        agent.MapPost(AgentRoutes.UploadArtifact, UploadArtifactAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.Finish, FinishAsync).RequireAction(Actions.AgentWork);
        agent.MapGet(AgentRoutes.DownloadArtifact, DownloadArtifactAsync).RequireAction(Actions.AgentWork);
        agent.MapPost(AgentRoutes.TargetProgress, ReportTargetAsync).RequireAction(Actions.AgentWork);
        agent.MapGet(AgentRoutes.TargetDecision, TargetDecisionAsync).RequireAction(Actions.AgentHeartbeat).WaitsByDesign();
        agent.MapNodeAgentApi();
    }

    internal static IResult LeaseLost(long id) =>
        Results.Json(new ErrorDto($"the lease on job {id} is no longer held by this agent"), statusCode: StatusCodes.Status409Conflict);

    private static async Task<IResult> RegisterAsync(RegisterAgentRequest request, HttpContext context, AgentStore agents, TargetStore targets, TimeProvider clock)
    {
        var token = (Principal.RegistrationToken)context.GetPrincipal()!;
        if (request.ProtocolVersion != ProtocolVersion.Current)
            return Results.Json(new ErrorDto($"agent protocol {request.ProtocolVersion} is not supported; this server speaks protocol {ProtocolVersion.Current}"),
                statusCode: StatusCodes.Status400BadRequest);
        if (request.Name is null || !AgentName().IsMatch(request.Name))
            throw new ArgumentException("an agent name is 1-64 letters, digits, '.', '_' or '-'");
        var pool = string.IsNullOrWhiteSpace(request.Pool) ? token.Pool : request.Pool;
        if (pool != token.Pool)
            return Results.Json(new ErrorDto($"this registration token admits agents to pool '{token.Pool}' only"), statusCode: StatusCodes.Status403Forbidden);
        // An agent's name is bound to its credential: only a token bound to a name (the embedded agent's) may take it over,
        // and such a token registers nothing else.
        if (token.AgentName is { } bound && request.Name != bound)
            return Results.Json(new ErrorDto($"this registration token registers the agent '{bound}' only"), statusCode: StatusCodes.Status403Forbidden);
        if (token.AgentName is null && Recovery.IsReservedAgentName(request.Name))
            return await NameRefusedAsync(context, request.Name, $"the name '{request.Name}' is reserved for the servers' embedded agents; choose another name");
        // A node agent (--target PROJECT/ENV/NAME) is admitted only as the agent its target names, bound to that target for
        // good, and always waits for an admin's approval unless its token was made for that very name: whoever holds some
        // registration token must not become a production server's agent by registering a name first.
        string? nodeTarget = null;
        var preApproved = token.PreApproved;
        if (request.Target is { } target)
        {
            var parts = target.Split('/');
            var row = parts.Length == 3 ? await targets.FindByPathAsync(parts[0], parts[1], parts[2]) : null;
            if (row is null)
                return Results.Json(new ErrorDto($"--target '{target}' names no deployment target: write PROJECT/ENVIRONMENT/TARGET"), statusCode: StatusCodes.Status403Forbidden);
            if (row.NodeAgent != request.Name)
                return Results.Json(new ErrorDto($"target '{target}' does not name agent '{request.Name}' as its node agent" +
                    (row.NodeAgent is { } other ? $" (it names '{other}')" : "") + $": slipway target edit {parts[0]} {parts[1]} {parts[2]} --node-agent {request.Name}"),
                    statusCode: StatusCodes.Status403Forbidden);
            nodeTarget = target;
            preApproved = preApproved && token.AgentName == request.Name;
        }
        var labels = string.Join(',', (request.Labels ?? []).Where(l => l.Length > 0).Select(l => l.Trim()).Distinct().Order());
        var credential = Tokens.New(Tokens.AgentPrefix);
        try
        {
            var (id, status) = await agents.RegisterAsync(request.Name, pool, labels, Math.Clamp(request.Slots, 1, 256), Tokens.Hash(credential),
                preApproved, request.ProtocolVersion, clock.GetUtcNow().ToUnixTimeMilliseconds(), takeOver: token.AgentName == request.Name, nodeTarget: nodeTarget,
                registrationTokenId: token.Id);
            return Results.Ok(new RegisterAgentResponse(id, request.Name, credential, status));
        }
        catch (AgentNameTakenException taken) { return await NameRefusedAsync(context, request.Name, taken.Message); }
        catch (RevokedTokenException)
        {
            await context.AuditAsync(Actions.AgentRegister, Core.Audit.AuditOutcomes.Denied, $"agent:{request.Name}", "the registration token was revoked or expired meanwhile");
            return Results.Json(new ErrorDto("the registration token was revoked or has expired; ask an admin for a new one"), statusCode: StatusCodes.Status401Unauthorized);
        }
    }

    private static async Task<IResult> NameRefusedAsync(HttpContext context, string name, string message)
    {
        await context.AuditAsync(Actions.AgentRegister, Core.Audit.AuditOutcomes.Failed, $"agent:{name}", message);
        return Results.Json(new ErrorDto(message), statusCode: StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> PollAsync(PollRequest request, HttpContext context, JobDispatcher dispatcher, AgentStore agents, TargetStore targets,
        TimeProvider clock)
    {
        var agent = context.RequireAgent();
        await agents.TouchAsync(agent.Id, clock.GetUtcNow().ToUnixTimeMilliseconds());
        // A node agent runs on a production server, unsandboxed: it must never take a branch's job. Decided by its own
        // binding (made at registration), not by what target rows name: naming a pool agent on a target changes nothing here.
        if (agent.NodeTarget is { } served)
            return Results.Json(new ErrorDto($"agent {agent.Name} is the node agent of {served} and takes no pool jobs"),
                statusCode: StatusCodes.Status403Forbidden);
        var lease = await dispatcher.PollAsync(agent, TimeSpan.FromSeconds(Math.Clamp(request.WaitSeconds, 0, 60)), context.RequestAborted);
        return lease is null ? Results.NoContent() : Results.Ok(lease);
    }

    /// <summary>The job when the call's lease id is its lease, held by the calling agent; else null (answer 409).</summary>
    internal static async Task<JobRow?> LeasedAsync(long id, HttpContext context, JobLeaseStore leases)
    {
        var leaseId = context.Request.Headers[AgentHeaders.LeaseId].ToString();
        var job = string.IsNullOrEmpty(leaseId) ? null : await leases.GetLeasedAsync(id, leaseId);
        return job is not null && job.AgentId == context.RequireAgent().Id ? job : null;
    }

    private static async Task<IResult> SourceAsync(long id, HttpContext context, JobLeaseStore leases, RunStore runs, ProjectStore projects, MirrorDirectory mirrors)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        var run = (await runs.GetRunRowAsync(job.RunId))!;
        // This node's mirror may not have the commit yet (the run was started through another node): fetched first.
        var mirror = await mirrors.ReadyAsync(await projects.RequireAsync(run.ProjectName), run.CommitSha, context.RequestAborted);
        context.Response.ContentType = "application/x-tar";
        await mirror.ArchiveAsync(run.CommitSha, context.Response.Body, context.RequestAborted);
        return Results.Empty;
    }

    private static async Task<IResult> StartAsync(long id, HttpContext context, JobLeaseStore leases, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        await leases.StartAsync(id, job.LeaseId!, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return Results.NoContent();
    }

    /// <summary>Extends the lease, then holds the call up to WaitSeconds, answering at once if cancellation is asked.</summary>
    private static async Task<IResult> RenewAsync(long id, RenewRequest request, HttpContext context, JobLeaseStore leases, WorkSignal signal,
        ServerOptions options, TimeProvider clock, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = linked.Token;
        var woken = signal.WaitAsync(WorkSignal.Job(id));
        var cancel = await leases.RenewAsync(id, context.RequireAgent().Id, request.LeaseId, options.LeaseTimeout, clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (cancel is null) return LeaseLost(id);
        var wait = TimeSpan.FromSeconds(Math.Clamp(request.WaitSeconds, 0, (int)(options.LeaseTimeout.TotalSeconds / 3)));
        var until = clock.GetUtcNow() + wait;
        while (cancel == false && clock.GetUtcNow() < until && !ct.IsCancellationRequested)
        {
            try { await woken.WaitAsync(TimeSpan.FromSeconds(1), ct); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { break; }
            woken = signal.WaitAsync(WorkSignal.Job(id));
            cancel = await leases.IsCancelRequestedAsync(id);
        }
        // The agent hung up (job over, or it is stopping): the lease taken at the start of this call stands.
        if (context.RequestAborted.IsCancellationRequested) return Results.Empty;
        var expires = clock.GetUtcNow() + options.LeaseTimeout;
        cancel = await leases.RenewAsync(id, context.RequireAgent().Id, request.LeaseId, options.LeaseTimeout, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return cancel is null ? LeaseLost(id) : Results.Ok(new RenewResponse(cancel.Value, expires));
    }

    private static async Task<IResult> AppendLogAsync(long id, HttpContext context, JobLeaseStore leases, LogStore logs, WorkSignal signal,
        SlipwayMetrics metrics)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        var result = await logs.AppendAsync(id, context.Request.Body, context.RequestAborted);
        metrics.LogBytes.Inc(result.Received);
        signal.Signal(WorkSignal.Log(id));
        return Results.Ok(new LogAppendResponse(result.Length, result.Truncated, job.CancelRequested != 0));
    }

    private static async Task<IResult> UploadArtifactAsync(long id, HttpContext context, JobLeaseStore leases, ArtifactFiles files,
        ArtifactStore artifacts, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        // Kestrel's default body limit (30 MB) is far below the artifact limit; the store enforces the real one.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;
        var path = context.Request.Headers[AgentHeaders.ArtifactPath].ToString();
        if (!IsSafeRelativePath(path)) throw new ArgumentException($"artifact path '{path}' must be relative, without '..'");
        var (sha, size) = await files.StoreAsync(context.Request.Body, context.RequestAborted);
        var executable = context.Request.Headers[AgentHeaders.ArtifactExecutable].ToString() == "1";
        await artifacts.RecordAsync(job.RunId, id, job.StageIdx, path, sha, size, executable, clock.GetUtcNow().ToUnixTimeMilliseconds());
        return Results.Ok(new ArtifactRef(path, sha, size, executable));
    }

    private static async Task<IResult> FinishAsync(long id, FinishJobRequest request, HttpContext context, JobLeaseStore leases, LogStore logs,
        JobEvents events, SlipwayMetrics metrics, RunStore runs, WorkSignal signal, MetricsRecorder metricsRecorder, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null || job.LeaseId != request.LeaseId) return LeaseLost(id);
        var outcome = StatusNames.Parse(request.Outcome);
        if (outcome is not (ExecutionStatus.Succeeded or ExecutionStatus.Failed or ExecutionStatus.Cancelled))
            throw new ArgumentException($"'{request.Outcome}' is not a job outcome");
        var summary = request.TestSummary is null ? null : RunMapping.SerializeSummary(new TestSummaryViewDto(
            request.TestSummary.Passed, request.TestSummary.Failed, request.TestSummary.Skipped,
            request.TestSummary.Failures.Take(50).Select(f => new TestFailureViewDto(f.Name, f.Message)).ToList()));
        foreach (var error in request.ReportErrors ?? []) await logs.AppendNoteAsync(id, "test report: " + error);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var failureReason = request.FailureReason;
        // The metrics file the job was asked for is evidence a gate may rely on: one that is missing or malformed fails
        // a job that otherwise succeeded, naming the file and the problem.
        if (await metricsRecorder.RecordAsync(id, job.RunId, JobSpec.FromJson(job.Spec).Metrics, request.Metrics, now) is { } metricsError
            && outcome == ExecutionStatus.Succeeded)
            (outcome, failureReason) = (ExecutionStatus.Failed, metricsError);
        var log = await logs.StateAsync(id, context.RequestAborted);
        var change = await leases.FinishAsync(id, request.LeaseId,
            new JobResult(outcome, request.ExitCode, failureReason, summary, log.Length, log.Truncated), now);
        if (change is null) return LeaseLost(id);
        metrics.JobDuration.WithLabels(outcome.ToWire()).Observe((now - (job.StartedAt ?? now)) / 1000.0);
        events.Finished(change);
        // The end of a deployment's job may end the deployment: the conductor looks now rather than at its next tick.
        if (await runs.DeploymentOfRunAsync(job.RunId) is not null) signal.Signal(WorkSignal.Deployments);
        return Results.NoContent();
    }

    /// <summary>
    /// One target's progress in the leased job's rolling deployment. Only a target of that deployment's plan can be
    /// reported; every change of the load-balancer state the agent made is written to the audit log as it happens.
    /// </summary>
    private static async Task<IResult> ReportTargetAsync(long id, TargetProgressRequest request, HttpContext context, JobLeaseStore leases, RunStore runs,
        DeploymentStore deployments, TargetStore targets, AuditLog audit, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null || job.LeaseId != request.LeaseId) return LeaseLost(id);
        if (!TargetStates.All.Contains(request.State)) throw new ArgumentException($"'{request.State}' is not a target state");
        if (request.BalancerState is not (null or "ready" or "drain" or "maint")) throw new ArgumentException($"'{request.BalancerState}' is not a load-balancer state");
        var deploymentId = (await runs.GetRunRowAsync(job.RunId))?.DeploymentId ?? throw new ArgumentException($"job {id} is not part of a deployment");
        var before = (await targets.ResultsAsync(deploymentId)).FirstOrDefault(r => r.Target == request.Target)
                     ?? throw new KeyNotFoundException($"target '{request.Target}' is not in the plan of this deployment");
        await targets.ReportAsync(deploymentId, request.Target, request.State, request.BalancerState, Short(request.Step, 200), Short(request.Reason, 2000),
            clock.GetUtcNow().ToUnixTimeMilliseconds(), request.Final);
        if (request.BalancerState is { } lb && lb != before.BalancerState && await deployments.GetAsync(deploymentId) is { } d)
            await audit.RecordAsync(new AuditRecord(AuditActorKinds.Agent, context.RequireAgent().Name, null, Actions.DeploymentStart,
                $"project:{d.ProjectName} env:{d.Environment} deployment:{d.Number} target:{request.Target}", AuditOutcomes.Succeeded,
                $"load balancer: {request.Target} set to {lb} (was {before.BalancerState ?? "not touched"}) by {d.Subject}" + (request.Reason is { } r ? $": {Short(r, 300)}" : "")));
        return Results.NoContent();
    }

    /// <summary>on_failure: pause — held up to waitSeconds until a deployer decides for the paused target; 204 when no decision came.</summary>
    private static async Task<IResult> TargetDecisionAsync(long id, string target, int? waitSeconds, HttpContext context, JobLeaseStore leases, RunStore runs,
        TargetStore targets, WorkSignal signal, TimeProvider clock)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        var deploymentId = (await runs.GetRunRowAsync(job.RunId))?.DeploymentId ?? throw new ArgumentException($"job {id} is not part of a deployment");
        var until = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? 0, 0, 30));
        while (true)
        {
            var woken = signal.WaitAsync(DecisionSignal(deploymentId));
            if (await targets.TakeDecisionAsync(deploymentId, target) is { } taken)
                return Results.Ok(new TargetDecisionDto(target, taken.Decision, taken.By));
            if (clock.GetUtcNow() >= until || context.RequestAborted.IsCancellationRequested) return Results.NoContent();
            try { await woken.WaitAsync(TimeSpan.FromSeconds(1), context.RequestAborted); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { return Results.NoContent(); }
        }
    }

    /// <summary>Signalled when a deployer decides for a paused target of the deployment.</summary>
    public static string DecisionSignal(long deploymentId) => "decision:" + deploymentId;

    private static string? Short(string? text, int max) => text is null ? null : text.Length <= max ? text : text[..(max - 3)] + "...";

    /// <summary>
    /// An artifact the leased job is entitled to: one of its run's earlier stages. Without the lease check an
    /// agent could fetch any project's artifact whose digest it learnt.
    /// </summary>
    private static async Task<IResult> DownloadArtifactAsync(long id, string sha256, HttpContext context, JobLeaseStore leases,
        ArtifactFiles files, ArtifactStore artifacts)
    {
        var job = await LeasedAsync(id, context, leases);
        if (job is null) return LeaseLost(id);
        if (!Sha256().IsMatch(sha256) || !(await artifacts.ForStagesBeforeAsync(job.RunId, job.StageIdx)).Any(a => a.Sha256 == sha256))
            throw new KeyNotFoundException($"job {id} has no artifact {sha256} to download");
        var stream = await files.OpenReadAsync(sha256, context.RequestAborted) ?? throw new KeyNotFoundException("artifact content is missing from the store");
        return Results.Stream(stream, "application/octet-stream");
    }

    public static bool IsSafeRelativePath(string path) =>
        path.Length is > 0 and < 1024 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains('\0')
        && path.Split('/').All(s => s.Length > 0 && s != ".." && s != ".");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex AgentName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256();
}
