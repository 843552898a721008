namespace Slipway.Contracts;

/// <summary>
/// The agent protocol version. Raise it on every change to a message in <see cref="Agents"/> or to the
/// call order in docs/agent-protocol.md. The server refuses to register an agent whose version differs.
/// </summary>
public static class ProtocolVersion
{
    // 2: JobLease.SecretNames, output masking by the agent; 3: artifact download under the job's lease;
    // 4: register answers 409 for a name in use (never taking it over) and 403 for a name a bound token does not register
    // 5: JobLease.Rollout (typed rolling-deployment steps run by the agent) and POST jobs/{id}/targets (per-target progress)
    // 6: node agents: RegisterAgentRequest.Target, RolloutTargetSpec.NodeAgent, node tasks (jobs/{id}/node-files|node-tasks, node/poll|tasks)
    // 7: JobLease.MetricsFile and FinishJobRequest.Metrics (the metrics file's text, parsed by the server)
    public const int Current = 7;
}
