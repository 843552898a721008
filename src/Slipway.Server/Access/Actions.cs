namespace Slipway.Server.Access;

/// <summary>
/// The one catalogue of actions. Every endpoint names exactly one of these (see <see cref="EndpointAccess"/>);
/// the authorizer decides on it and (in the access issue) the audit log records it, so nothing is reachable
/// without being named here. A test walks the route table to hold that true.
/// </summary>
public static class Actions
{
    public const string ProjectCreate = "project.create";
    public const string ProjectRead = "project.read";
    public const string RunStart = "run.start";
    public const string RunRead = "run.read";
    public const string RunCancel = "run.cancel";
    public const string RunRetry = "run.retry";
    public const string LogRead = "log.read";
    public const string ArtifactRead = "artifact.read";
    public const string AgentRead = "agent.read";
    public const string AgentApprove = "agent.approve";
    public const string AgentTokenCreate = "agent.token.create";
    public const string PipelineLint = "pipeline.lint";
    public const string MetricsRead = "metrics.read";
    public const string UiView = "ui.view";
    public const string VariableRead = "variable.read";
    public const string VariableWrite = "variable.write";

    // Agent protocol: only an agent's own credential may take these.
    public const string AgentRegister = "agent.register";
    public const string AgentWork = "agent.work";

    // Endpoints whose caller proves itself another way (documented where they are mapped).
    public const string Public = "public";
    public const string WebhookPush = "webhook.push";

    public static readonly IReadOnlySet<string> UserActions = new HashSet<string>
    {
        ProjectCreate, ProjectRead, RunStart, RunRead, RunCancel, RunRetry, LogRead, ArtifactRead,
        AgentRead, AgentApprove, AgentTokenCreate, PipelineLint, MetricsRead, UiView, VariableRead, VariableWrite,
    };

    /// <summary>What a non-admin user may do until roles land (issue 3): read.</summary>
    public static readonly IReadOnlySet<string> ReadActions = new HashSet<string>
    {
        ProjectRead, RunRead, LogRead, ArtifactRead, AgentRead, PipelineLint, UiView, VariableRead,
    };

    public static readonly IReadOnlySet<string> All = new HashSet<string>(UserActions) { AgentRegister, AgentWork, Public, WebhookPush };
}
