using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>Server nodes: the list with their duties, drain, undrain and remove.</summary>
public sealed partial class SlipwayClient
{
    public Task<List<NodeDto>> ListNodesAsync(CancellationToken ct = default) => GetAsync<List<NodeDto>>("api/v1/nodes", ct);

    public Task<NodeDto> DrainNodeAsync(string name, CancellationToken ct = default) =>
        PostAsync<NodeDto>($"api/v1/nodes/{Uri.EscapeDataString(name)}/drain", new { }, ct);

    public Task<NodeDto> UndrainNodeAsync(string name, CancellationToken ct = default) =>
        PostAsync<NodeDto>($"api/v1/nodes/{Uri.EscapeDataString(name)}/undrain", new { }, ct);

    /// <summary>Removes a stopped or lost node from the list (409 while it is alive).</summary>
    public async Task RemoveNodeAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"api/v1/nodes/{Uri.EscapeDataString(name)}", ct);
        await EnsureAsync(response);
    }
}
