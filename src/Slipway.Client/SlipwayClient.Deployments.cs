using System.Net.Http.Json;
using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>Environments, deployments, the dashboard and the evidence export.</summary>
public sealed partial class SlipwayClient
{
    public Task<List<EnvironmentDto>> ListEnvironmentsAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<EnvironmentDto>>($"{ProjectPath(project)}/environments", ct);

    public Task<EnvironmentDto> GetEnvironmentAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<EnvironmentDto>($"{EnvPath(project, environment)}", ct);

    public Task<EnvironmentDto> CreateEnvironmentAsync(string project, EnvironmentRequest request, CancellationToken ct = default) =>
        PostAsync<EnvironmentDto>($"{ProjectPath(project)}/environments", request, ct);

    public async Task<EnvironmentDto> EditEnvironmentAsync(string project, string environment, EnvironmentRequest request, CancellationToken ct = default)
    {
        using var response = await _http.PatchAsJsonAsync(EnvPath(project, environment), request, Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<EnvironmentDto>(Json, ct))!;
    }

    public Task<EnvironmentDto> AddFreezeAsync(string project, string environment, FreezeWindowRequest request, CancellationToken ct = default) =>
        PostAsync<EnvironmentDto>($"{EnvPath(project, environment)}/freezes", request, ct);

    public async Task RemoveFreezeAsync(string project, string environment, long id, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{EnvPath(project, environment)}/freezes/{id}", ct);
        await EnsureAsync(response);
    }

    public async Task SetEnvironmentVariableAsync(string project, string environment, string name, string value, bool secret, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{EnvPath(project, environment)}/variables/{Uri.EscapeDataString(name)}", new SetVariableRequest(value, secret), Json, ct);
        await EnsureAsync(response);
    }

    public Task<DeploymentDto> DeployAsync(string project, string version, string environment, string? emergencyReason = null, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/deployments", new DeployRequest(version, environment, emergencyReason), ct);

    public Task<DeploymentDto> PromoteAsync(string project, string environment, string? emergencyReason = null, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/promotions", new DeployRequest(null, environment, emergencyReason), ct);

    public Task<DeploymentDto> RollbackAsync(string project, string environment, string? version = null, string? emergencyReason = null, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/rollbacks", new RollbackRequest(environment, version, emergencyReason), ct);

    public Task<List<DeploymentDto>> ListDeploymentsAsync(string project, string? environment = null, CancellationToken ct = default) =>
        GetAsync<List<DeploymentDto>>($"{ProjectPath(project)}/deployments" + (environment is null ? "" : "?environment=" + Uri.EscapeDataString(environment)), ct);

    public Task<DeploymentDto> GetDeploymentAsync(string project, long number, CancellationToken ct = default) =>
        GetAsync<DeploymentDto>($"{ProjectPath(project)}/deployments/{number}", ct);

    public Task<DeploymentDto> ApproveDeploymentAsync(string project, long number, string? comment, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/deployments/{number}/approve", new ApproveDeploymentRequest(comment), ct);

    public Task<DeploymentDto> RejectDeploymentAsync(string project, long number, string reason, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/deployments/{number}/reject", new RejectDeploymentRequest(reason), ct);

    public Task<DeploymentDto> CancelDeploymentAsync(string project, long number, CancellationToken ct = default) =>
        PostAsync<DeploymentDto>($"{ProjectPath(project)}/deployments/{number}/cancel", new { }, ct);

    /// <summary>on_failure: pause — retry, skip or abort for one paused target of a running deployment.</summary>
    public Task<DeploymentTargetDto> DecideTargetAsync(string project, long number, string target, string decision, CancellationToken ct = default) =>
        PostAsync<DeploymentTargetDto>($"{ProjectPath(project)}/deployments/{number}/targets/{Uri.EscapeDataString(target)}/decision",
            new TargetDecisionRequest(decision), ct);

    /// <summary>Puts back in rotation the targets deployment <paramref name="number"/> left out of it (deployment repair).</summary>
    public Task<RepairDto> RepairDeploymentAsync(string project, long number, CancellationToken ct = default) =>
        PostAsync<RepairDto>($"{ProjectPath(project)}/deployments/{number}/repair", new { }, ct);

    /// <summary>The environment matrix of every project whose deployments the caller may read.</summary>
    public Task<List<DashboardDto>> GetOverviewAsync(CancellationToken ct = default) => GetAsync<List<DashboardDto>>("api/v1/dashboard", ct);

    public Task<DashboardDto> GetDashboardAsync(string project, CancellationToken ct = default) =>
        GetAsync<DashboardDto>($"{ProjectPath(project)}/dashboard", ct);

    public Task<EnvironmentComparisonDto> CompareEnvironmentsAsync(string project, string from, string to, CancellationToken ct = default) =>
        GetAsync<EnvironmentComparisonDto>($"{ProjectPath(project)}/compare?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}", ct);

    /// <summary>The evidence export as text (csv or json).</summary>
    public async Task<string> ExportDeploymentsAsync(string project, string? environment, DateTimeOffset? from, DateTimeOffset? to, string format, CancellationToken ct = default)
    {
        var query = new List<string> { "format=" + Uri.EscapeDataString(format) };
        if (environment is not null) query.Add("environment=" + Uri.EscapeDataString(environment));
        if (from is not null) query.Add("from=" + Uri.EscapeDataString(from.Value.ToString("O")));
        if (to is not null) query.Add("to=" + Uri.EscapeDataString(to.Value.ToString("O")));
        using var response = await _http.GetAsync($"{ProjectPath(project)}/deployments/export?{string.Join('&', query)}", ct);
        await EnsureAsync(response);
        return await response.Content.ReadAsStringAsync(ct);
    }

    private static string EnvPath(string project, string environment) => $"{ProjectPath(project)}/environments/{Uri.EscapeDataString(environment)}";
}
