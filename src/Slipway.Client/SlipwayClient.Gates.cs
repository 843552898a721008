using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>Quality gates: an environment's gates, a release's checklist and sign-offs, a run's metrics.</summary>
public sealed partial class SlipwayClient
{
    public Task<List<GateDto>> ListGatesAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<List<GateDto>>($"{EnvPath(project, environment)}/gates", ct);

    public Task<GateDto> AddGateAsync(string project, string environment, GateRequest request, CancellationToken ct = default) =>
        PostAsync<GateDto>($"{EnvPath(project, environment)}/gates", request, ct);

    public async Task RemoveGateAsync(string project, string environment, long id, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{EnvPath(project, environment)}/gates/{id}", ct);
        await EnsureAsync(response);
    }

    public Task<GateChecklistDto> GetGateChecklistAsync(string project, string version, string environment, CancellationToken ct = default) =>
        GetAsync<GateChecklistDto>($"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}/gates?env={Uri.EscapeDataString(environment)}", ct);

    public Task<List<SignOffDto>> ListSignOffsAsync(string project, string version, CancellationToken ct = default) =>
        GetAsync<List<SignOffDto>>($"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}/signoffs", ct);

    public Task<SignOffDto> SignOffAsync(string project, string version, SignOffRequest request, CancellationToken ct = default) =>
        PostAsync<SignOffDto>($"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}/signoffs", request, ct);

    /// <summary>The gate results judged when the deployment was requested: the evidence that allowed or held it.</summary>
    public Task<List<GateResultDto>> GetDeploymentGatesAsync(string project, long number, CancellationToken ct = default) =>
        GetAsync<List<GateResultDto>>($"{ProjectPath(project)}/deployments/{number}/gates", ct);

    public async Task<SignOffAttachmentDto> AttachToSignOffAsync(string project, string version, long signOffId, string name, byte[] content, CancellationToken ct = default)
    {
        using var body = new ByteArrayContent(content);
        using var response = await _http.PostAsync(
            $"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}/signoffs/{signOffId}/attachments?name={Uri.EscapeDataString(name)}", body, ct);
        await EnsureAsync(response);
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<SignOffAttachmentDto>(response.Content, Json, ct))!;
    }

    public async Task<byte[]> GetSignOffAttachmentAsync(string url, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync(url.TrimStart('/'), ct);
        await EnsureAsync(response);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    public Task<List<MetricDto>> GetRunMetricsAsync(long runId, CancellationToken ct = default) =>
        GetAsync<List<MetricDto>>($"api/v1/runs/{runId}/metrics", ct);
}
