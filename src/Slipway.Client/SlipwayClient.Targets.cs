using System.Net.Http.Json;
using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>The last mile: an environment's deployment targets and load balancers, and what a deployment did to each target.</summary>
public sealed partial class SlipwayClient
{
    private static string TargetPath(string project, string environment, string? target = null) =>
        $"{EnvPath(project, environment)}/targets" + (target is null ? "" : "/" + Uri.EscapeDataString(target));

    public Task<List<TargetDto>> ListTargetsAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<List<TargetDto>>(TargetPath(project, environment), ct);

    public Task<TargetDto> GetTargetAsync(string project, string environment, string target, CancellationToken ct = default) =>
        GetAsync<TargetDto>(TargetPath(project, environment, target), ct);

    public Task<TargetDto> AddTargetAsync(string project, string environment, TargetRequest request, CancellationToken ct = default) =>
        PostAsync<TargetDto>(TargetPath(project, environment), request, ct);

    public async Task<TargetDto> EditTargetAsync(string project, string environment, string target, TargetRequest request, CancellationToken ct = default)
    {
        using var response = await _http.PatchAsJsonAsync(TargetPath(project, environment, target), request, Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<TargetDto>(Json, ct))!;
    }

    public async Task RemoveTargetAsync(string project, string environment, string target, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync(TargetPath(project, environment, target), ct);
        await EnsureAsync(response);
    }

    public Task<HostKeyScanDto> ScanTargetAsync(string project, string environment, string target, string? accept, CancellationToken ct = default) =>
        PostAsync<HostKeyScanDto>(TargetPath(project, environment, target) + "/scan", new HostKeyScanRequest(accept), ct);

    public Task<List<BalancerDto>> ListBalancersAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<List<BalancerDto>>($"{EnvPath(project, environment)}/balancers", ct);

    public async Task<BalancerDto> SetBalancerAsync(string project, string environment, string name, BalancerRequest request, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{EnvPath(project, environment)}/balancers/{Uri.EscapeDataString(name)}", request, Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<BalancerDto>(Json, ct))!;
    }

    public async Task RemoveBalancerAsync(string project, string environment, string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{EnvPath(project, environment)}/balancers/{Uri.EscapeDataString(name)}", ct);
        await EnsureAsync(response);
    }

    public Task<List<DeploymentTargetDto>> GetDeploymentTargetsAsync(string project, long number, CancellationToken ct = default) =>
        GetAsync<List<DeploymentTargetDto>>($"{ProjectPath(project)}/deployments/{number}/targets", ct);
}
