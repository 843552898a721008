using System.Net.Http.Json;
using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>Change requests, merge rules and an external repository's credential.</summary>
public sealed partial class SlipwayClient
{
    public Task<ChangeRequestDto> OpenChangeRequestAsync(string project, OpenChangeRequestRequest request, CancellationToken ct = default) =>
        PostAsync<ChangeRequestDto>($"{ProjectPath(project)}/change-requests", request, ct);

    public Task<List<ChangeRequestSummaryDto>> ListChangeRequestsAsync(string project, string? state = null, CancellationToken ct = default) =>
        GetAsync<List<ChangeRequestSummaryDto>>($"{ProjectPath(project)}/change-requests" + (state is null ? "" : "?state=" + Uri.EscapeDataString(state)), ct);

    /// <param name="strategy">The strategy the unmet rules are evaluated for (null: the one auto-merge uses, else merge).</param>
    public Task<ChangeRequestDto> GetChangeRequestAsync(string project, long number, string? strategy = null, CancellationToken ct = default) =>
        GetAsync<ChangeRequestDto>($"{CrPath(project, number)}" + (strategy is null ? "" : "?strategy=" + Uri.EscapeDataString(strategy)), ct);

    /// <summary>The change's unified diff.</summary>
    public async Task<string> GetChangeRequestDiffAsync(string project, long number, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync($"{CrPath(project, number)}/diff", ct);
        await EnsureAsync(response);
        return await response.Content.ReadAsStringAsync(ct);
    }

    public Task<ChangeRequestDto> ReviewChangeRequestAsync(string project, long number, string verdict, string? comment, string? overrideReason = null,
        CancellationToken ct = default) =>
        PostAsync<ChangeRequestDto>($"{CrPath(project, number)}/reviews", new ReviewRequest(verdict, comment, overrideReason), ct);

    public Task<ChangeRequestDto> MergeChangeRequestAsync(string project, long number, string? strategy, CancellationToken ct = default) =>
        PostAsync<ChangeRequestDto>($"{CrPath(project, number)}/merge", new MergeRequest(strategy), ct);

    public Task<ChangeRequestDto> CloseChangeRequestAsync(string project, long number, CancellationToken ct = default) =>
        PostAsync<ChangeRequestDto>($"{CrPath(project, number)}/close", new { }, ct);

    public Task<ChangeRequestDto> ReopenChangeRequestAsync(string project, long number, CancellationToken ct = default) =>
        PostAsync<ChangeRequestDto>($"{CrPath(project, number)}/reopen", new { }, ct);

    public async Task<ChangeRequestDto> SetAutoMergeAsync(string project, long number, bool enabled, string? strategy, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{CrPath(project, number)}/auto-merge", new AutoMergeRequest(enabled, strategy), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<ChangeRequestDto>(Json, ct))!;
    }

    public Task<List<MergeRulesDto>> ListMergeRulesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<MergeRulesDto>>($"{ProjectPath(project)}/merge-rules", ct);

    public async Task<MergeRulesDto> SetMergeRulesAsync(string project, string branch, int? requiredApprovals, bool? dismissStale, CancellationToken ct = default)
    {
        var path = $"{ProjectPath(project)}/merge-rules/{string.Join('/', branch.Split('/').Select(Uri.EscapeDataString))}";
        using var response = await _http.PutAsJsonAsync(path, new SetMergeRulesRequest(requiredApprovals, dismissStale), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<MergeRulesDto>(Json, ct))!;
    }

    public async Task SetGitCredentialAsync(string project, string username, string password, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{ProjectPath(project)}/git-credential", new GitCredentialRequest(username, password), Json, ct);
        await EnsureAsync(response);
    }

    /// <summary>Replaces the push webhook's secret; the answer is the only time the new one is shown.</summary>
    public async Task<WebhookSecretDto> ReplaceWebhookSecretAsync(string project, CancellationToken ct = default)
    {
        using var response = await _http.PostAsync($"{ProjectPath(project)}/webhook-secret", null, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<WebhookSecretDto>(Json, ct))!;
    }

    public Task<List<DirectPushDto>> ListDirectPushesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<DirectPushDto>>($"{ProjectPath(project)}/direct-pushes", ct);

    private static string CrPath(string project, long number) => $"{ProjectPath(project)}/change-requests/{number}";
}
