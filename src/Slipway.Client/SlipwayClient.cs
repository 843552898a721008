using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Slipway.Contracts.Api;

namespace Slipway.Client;

/// <summary>An API call the server refused; <see cref="Exception.Message"/> is the server's own explanation.</summary>
public sealed class SlipwayApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>Typed client for /api/v1, shared by the CLI and the tests. Thread-safe.</summary>
public sealed class SlipwayClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public SlipwayClient(string serverUrl, string? token)
    {
        _http = new HttpClient { BaseAddress = new Uri(serverUrl.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public HttpClient Http => _http;

    public Task<ProjectCreatedDto> CreateProjectAsync(string name, string repo, string? branch, CancellationToken ct = default) =>
        PostAsync<ProjectCreatedDto>("api/v1/projects", new CreateProjectRequest(name, repo, branch), ct);
    public Task<List<ProjectDto>> ListProjectsAsync(CancellationToken ct = default) => GetAsync<List<ProjectDto>>("api/v1/projects", ct);
    public Task<List<BranchDto>> ListBranchesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<BranchDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/branches", ct);

    public Task<RunCreatedDto> StartRunAsync(string project, string? branch, string? commit, CancellationToken ct = default) =>
        PostAsync<RunCreatedDto>($"api/v1/projects/{Uri.EscapeDataString(project)}/runs", new StartRunRequest(branch, commit), ct);
    public Task<List<RunSummaryDto>> ListRunsAsync(string project, int limit = 50, CancellationToken ct = default) =>
        GetAsync<List<RunSummaryDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/runs?limit={limit}", ct);
    public Task<RunDto> GetRunAsync(long id, CancellationToken ct = default) => GetAsync<RunDto>($"api/v1/runs/{id}", ct);
    public Task<RunDto> CancelRunAsync(long id, CancellationToken ct = default) => PostAsync<RunDto>($"api/v1/runs/{id}/cancel", new { }, ct);
    public Task<RunDto> RetryRunAsync(long id, string? job, CancellationToken ct = default) =>
        PostAsync<RunDto>($"api/v1/runs/{id}/retry", new RetryRunRequest(job), ct);

    public Task<LogPageDto> GetLogAsync(long run, string job, long offset, int? limit = null, CancellationToken ct = default) =>
        GetAsync<LogPageDto>($"api/v1/runs/{run}/jobs/{Uri.EscapeDataString(job)}/log?offset={offset}" + (limit is null ? "" : $"&limit={limit}"), ct);

    /// <summary>Follows a job's log over server-sent events until the job ends, yielding each page.</summary>
    public async IAsyncEnumerable<LogPageDto> FollowLogAsync(long run, string job, long offset, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/runs/{run}/jobs/{Uri.EscapeDataString(job)}/log/follow?offset={offset}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureAsync(response);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream);
        string? evt = null;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("event: ")) evt = line[7..];
            else if (line.StartsWith("data: ") && evt == "log") yield return JsonSerializer.Deserialize<LogPageDto>(line[6..], Json)!;
            else if (line.StartsWith("data: ") && evt == "end") yield break;
        }
    }

    public Task<List<VariableDto>> ListVariablesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<VariableDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/variables", ct);

    /// <summary>Creates or replaces a variable. The answer never holds a secret's value.</summary>
    public async Task<VariableDto> SetVariableAsync(string project, string name, string value, bool secret, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync(VariablePath(project, name), new SetVariableRequest(value, secret), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<VariableDto>(Json, ct))!;
    }

    public async Task DeleteVariableAsync(string project, string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync(VariablePath(project, name), ct);
        await EnsureAsync(response);
    }

    private static string VariablePath(string project, string name) =>
        $"api/v1/projects/{Uri.EscapeDataString(project)}/variables/{Uri.EscapeDataString(name)}";

    public Task<List<AgentDto>> ListAgentsAsync(CancellationToken ct = default) => GetAsync<List<AgentDto>>("api/v1/agents", ct);
    public Task<AgentDto> ApproveAgentAsync(string name, CancellationToken ct = default) =>
        PostAsync<AgentDto>($"api/v1/agents/{Uri.EscapeDataString(name)}/approve", new { }, ct);
    public Task<RegistrationTokenDto> CreateAgentTokenAsync(string pool, bool preApproved, CancellationToken ct = default) =>
        PostAsync<RegistrationTokenDto>("api/v1/agents/tokens", new CreateRegistrationTokenRequest(pool, preApproved), ct);

    public async Task<T> GetAsync<T>(string path, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync(path, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    public async Task<T> PostAsync<T>(string path, object body, CancellationToken ct = default)
    {
        using var response = await _http.PostAsJsonAsync(path, body, Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    public static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync();
        string message;
        try { message = JsonSerializer.Deserialize<ErrorDto>(body, Json)?.Error ?? body; }
        catch (JsonException) { message = body; }
        if (string.IsNullOrWhiteSpace(message)) message = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        throw new SlipwayApiException(response.StatusCode, message);
    }

    public void Dispose() => _http.Dispose();
}
