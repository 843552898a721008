using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>Live checks: an environment's checks, their history and health, and the project's alert webhooks.</summary>
public sealed partial class SlipwayClient
{
    public Task<List<CheckDto>> ListChecksAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<List<CheckDto>>($"{EnvPath(project, environment)}/checks", ct);

    public Task<CheckDto> AddCheckAsync(string project, string environment, CheckRequest request, CancellationToken ct = default) =>
        PostAsync<CheckDto>($"{EnvPath(project, environment)}/checks", request, ct);

    public async Task RemoveCheckAsync(string project, string environment, long id, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{EnvPath(project, environment)}/checks/{id}", ct);
        await EnsureAsync(response);
    }

    /// <summary>The check's latest results, newest first.</summary>
    public Task<List<CheckResultDto>> GetCheckResultsAsync(string project, string environment, long id, int limit = 100, CancellationToken ct = default) =>
        GetAsync<List<CheckResultDto>>($"{EnvPath(project, environment)}/checks/{id}/results?limit={limit}", ct);

    public Task<EnvironmentHealthDto> GetEnvironmentHealthAsync(string project, string environment, CancellationToken ct = default) =>
        GetAsync<EnvironmentHealthDto>($"{EnvPath(project, environment)}/health", ct);

    public Task<List<AlertWebhookDto>> ListAlertWebhooksAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<AlertWebhookDto>>($"{ProjectPath(project)}/webhooks/alerts", ct);

    public Task<AlertWebhookDto> AddAlertWebhookAsync(string project, AlertWebhookRequest request, CancellationToken ct = default) =>
        PostAsync<AlertWebhookDto>($"{ProjectPath(project)}/webhooks/alerts", request, ct);

    public async Task RemoveAlertWebhookAsync(string project, long id, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"{ProjectPath(project)}/webhooks/alerts/{id}", ct);
        await EnsureAsync(response);
    }
}
