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
public sealed partial class SlipwayClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public SlipwayClient(string serverUrl, string? token)
    {
        _http = new HttpClient { BaseAddress = new Uri(serverUrl.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public HttpClient Http => _http;

    /// <summary>An external project whose repository needs a credential to fetch and to push merges.</summary>
    public Task<ProjectCreatedDto> CreateProjectAsync(string name, string repo, string? branch, string gitUsername, string gitPassword, CancellationToken ct = default) =>
        PostAsync<ProjectCreatedDto>("api/v1/projects", new CreateProjectRequest(name, repo, branch, false, gitUsername, gitPassword), ct);
    public Task<ProjectCreatedDto> CreateProjectAsync(string name, string repo, string? branch, CancellationToken ct = default) =>
        PostAsync<ProjectCreatedDto>("api/v1/projects", new CreateProjectRequest(name, repo, branch), ct);

    public Task<ProjectCreatedDto> CreateHostedProjectAsync(string name, CancellationToken ct = default) =>
        PostAsync<ProjectCreatedDto>("api/v1/projects", new CreateProjectRequest(name, null, null, Hosted: true), ct);
    public Task<List<ProjectDto>> ListProjectsAsync(CancellationToken ct = default) => GetAsync<List<ProjectDto>>("api/v1/projects", ct);
    public Task<List<BranchDto>> ListBranchesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<BranchDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/branches", ct);

    public Task<RunCreatedDto> StartRunAsync(string project, string? branch, string? commit, CancellationToken ct = default) =>
        PostAsync<RunCreatedDto>($"api/v1/projects/{Uri.EscapeDataString(project)}/runs", new StartRunRequest(branch, commit), ct);
    /// <param name="kind">null: every run; <c>ci</c>: builds only; <c>deployment</c>: deployment runs only; <c>check</c>: script live checks.</param>
    public Task<List<RunSummaryDto>> ListRunsAsync(string project, int limit = 50, CancellationToken ct = default, string? kind = null) =>
        GetAsync<List<RunSummaryDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/runs?limit={limit}{(kind is null ? "" : "&kind=" + Uri.EscapeDataString(kind))}", ct);
    public Task<RunDto> GetRunAsync(long id, CancellationToken ct = default) => GetAsync<RunDto>($"api/v1/runs/{id}", ct);
    /// <summary>A project's CI run by its number (#16), as the web UI, releases and work items name it.</summary>
    public Task<RunDto> GetRunByNumberAsync(string project, long number, CancellationToken ct = default) =>
        GetAsync<RunDto>($"api/v1/projects/{Uri.EscapeDataString(project)}/runs/{number}", ct);
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
        // The server always ends a finished job's stream with "end": a stream that stops before it was cut (a node gone).
        throw new IOException("the log stream ended before the job did");
    }

    public Task<List<VariableDto>> ListVariablesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<VariableDto>>($"api/v1/projects/{Uri.EscapeDataString(project)}/variables", ct);

    /// <summary>Creates or replaces a variable. The answer never holds a secret's value.</summary>
    /// <param name="isProtected">Given only to runs of protected branches and deployments; null: the server's default (a new secret is protected).</param>
    public async Task<VariableDto> SetVariableAsync(string project, string name, string value, bool secret, bool? isProtected = null, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync(VariablePath(project, name), new SetVariableRequest(value, secret, isProtected), Json, ct);
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

    /// <param name="prefix">The key prefix, or null to leave it.</param>
    /// <param name="pattern">The key pattern, "" for the default, or null to leave it.</param>
    public async Task<ItemKeyDto> SetItemKeyAsync(string project, string? prefix, string? pattern = null, CancellationToken ct = default)
    {
        using var response = await _http.PutAsJsonAsync($"{ProjectPath(project)}/item-key", new SetItemKeyRequest(prefix, pattern), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<ItemKeyDto>(Json, ct))!;
    }

    public Task<List<ReleaseSummaryDto>> ListReleasesAsync(string project, CancellationToken ct = default) =>
        GetAsync<List<ReleaseSummaryDto>>($"{ProjectPath(project)}/releases", ct);

    /// <summary>One release with its artifacts (and their digests), work items and notes.</summary>
    public Task<ReleaseDto> GetReleaseAsync(string project, string version, CancellationToken ct = default) =>
        GetAsync<ReleaseDto>($"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}", ct);

    /// <summary>One target's lines of a rolling deployment's job log ("[web-3] ..."), as text.</summary>
    public async Task<string> GetTargetLogAsync(long run, string job, string target, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync($"api/v1/runs/{run}/jobs/{Uri.EscapeDataString(job)}/log/targets/{Uri.EscapeDataString(target)}", ct);
        await EnsureAsync(response);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>The release notes as markdown.</summary>
    public async Task<string> GetReleaseNotesAsync(string project, string version, CancellationToken ct = default)
    {
        using var response = await _http.GetAsync($"{ProjectPath(project)}/releases/{Uri.EscapeDataString(version)}/notes", ct);
        await EnsureAsync(response);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>Creates a release by hand from a succeeded run of the project.</summary>
    public Task<ReleaseDto> CreateReleaseAsync(string project, long runId, CancellationToken ct = default) =>
        PostAsync<ReleaseDto>($"{ProjectPath(project)}/releases", new CreateReleaseRequest(runId), ct);

    public Task<WorkItemDto> CreateWorkItemAsync(string project, string title, string? description = null, string? kind = null, CancellationToken ct = default) =>
        PostAsync<WorkItemDto>($"{ProjectPath(project)}/items", new CreateWorkItemRequest(title, description, kind), ct);

    /// <summary>The project's items, optionally only those in one derived state (requested, in_development, ...).</summary>
    public Task<List<WorkItemDto>> ListWorkItemsAsync(string project, string? state = null, CancellationToken ct = default) =>
        GetAsync<List<WorkItemDto>>($"{ProjectPath(project)}/items" + (state is null ? "" : "?state=" + Uri.EscapeDataString(state)), ct);

    /// <summary>One item with its timeline.</summary>
    public Task<WorkItemDto> GetWorkItemAsync(string project, long number, CancellationToken ct = default) =>
        GetAsync<WorkItemDto>($"{ProjectPath(project)}/items/{number}", ct);

    public async Task<WorkItemDto> UpdateWorkItemAsync(string project, long number, string? title, string? description, string? kind, CancellationToken ct = default)
    {
        using var response = await _http.PatchAsJsonAsync($"{ProjectPath(project)}/items/{number}", new UpdateWorkItemRequest(title, description, kind), Json, ct);
        await EnsureAsync(response);
        return (await response.Content.ReadFromJsonAsync<WorkItemDto>(Json, ct))!;
    }

    private static string ProjectPath(string project) => $"api/v1/projects/{Uri.EscapeDataString(project)}";

    public Task<List<AgentDto>> ListAgentsAsync(CancellationToken ct = default) => GetAsync<List<AgentDto>>("api/v1/agents", ct);
    public Task<AgentDto> ApproveAgentAsync(string name, CancellationToken ct = default) =>
        PostAsync<AgentDto>($"api/v1/agents/{Uri.EscapeDataString(name)}/approve", new { }, ct);
    public Task<AgentDto> DisableAgentAsync(string name, CancellationToken ct = default) =>
        PostAsync<AgentDto>($"api/v1/agents/{Uri.EscapeDataString(name)}/disable", new { }, ct);

    /// <summary>Removes an agent: its credential stops working and its name can be registered again (refused while it runs jobs).</summary>
    public async Task RemoveAgentAsync(string name, CancellationToken ct = default)
    {
        using var response = await _http.DeleteAsync($"api/v1/agents/{Uri.EscapeDataString(name)}", ct);
        await EnsureAsync(response);
    }

    /// <param name="expiresInDays">1 to 365, 0 for never; null: the server's default (7).</param>
    public Task<RegistrationTokenDto> CreateAgentTokenAsync(string pool, bool preApproved, CancellationToken ct = default, string? agentName = null,
        int? expiresInDays = null) =>
        PostAsync<RegistrationTokenDto>("api/v1/agents/tokens", new CreateRegistrationTokenRequest(pool, preApproved, agentName, expiresInDays), ct);

    public Task<List<RegistrationTokenInfoDto>> ListAgentTokensAsync(CancellationToken ct = default) =>
        GetAsync<List<RegistrationTokenInfoDto>>("api/v1/agents/tokens", ct);

    public Task<RegistrationTokenInfoDto> RevokeAgentTokenAsync(long id, CancellationToken ct = default) =>
        PostAsync<RegistrationTokenInfoDto>($"api/v1/agents/tokens/{id}/revoke", new { }, ct);

    // --- Users and grants (user.read, user.manage, grant.manage).
    public Task<List<UserDto>> ListUsersAsync(CancellationToken ct = default) => GetAsync<List<UserDto>>("api/v1/users", ct);
    public Task<UserDto> GetUserAsync(string username, CancellationToken ct = default) =>
        GetAsync<UserDto>($"api/v1/users/{Uri.EscapeDataString(username)}", ct);
    public Task<UserDto> CreateUserAsync(string username, string? displayName, string? email, string? password, CancellationToken ct = default) =>
        PostAsync<UserDto>("api/v1/users", new CreateUserRequest(username, displayName, email, password), ct);
    public Task<UserDto> DisableUserAsync(string username, CancellationToken ct = default) =>
        PostAsync<UserDto>($"api/v1/users/{Uri.EscapeDataString(username)}/disable", new { }, ct);
    public Task<UserDto> EnableUserAsync(string username, CancellationToken ct = default) =>
        PostAsync<UserDto>($"api/v1/users/{Uri.EscapeDataString(username)}/enable", new { }, ct);
    /// <summary>An admin sets (resets) another user's password.</summary>
    public Task SetUserPasswordAsync(string username, string password, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/users/{Uri.EscapeDataString(username)}/password", new SetPasswordRequest(password, null), ct);
    public Task<UserDto> GrantAsync(string username, string role, string? project = null, string? environment = null, CancellationToken ct = default) =>
        PostAsync<UserDto>($"api/v1/users/{Uri.EscapeDataString(username)}/grants", new GrantRequest(role, project, environment), ct);
    public Task<UserDto> RevokeGrantAsync(string username, string role, string? project = null, string? environment = null, CancellationToken ct = default) =>
        PostAsync<UserDto>($"api/v1/users/{Uri.EscapeDataString(username)}/grants/revoke", new GrantRequest(role, project, environment), ct);

    // --- Roles and the action catalogue (user.read, role.manage).
    public Task<List<RoleDto>> ListRolesAsync(CancellationToken ct = default) => GetAsync<List<RoleDto>>("api/v1/roles", ct);
    public Task<RoleDto> CreateRoleAsync(string name, string? description, IReadOnlyList<string> actions, CancellationToken ct = default) =>
        PostAsync<RoleDto>("api/v1/roles", new CreateRoleRequest(name, description, actions), ct);
    public Task DeleteRoleAsync(string name, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/roles/{Uri.EscapeDataString(name)}", null, ct);
    public Task<List<ActionDto>> ListActionsAsync(CancellationToken ct = default) => GetAsync<List<ActionDto>>("api/v1/actions", ct);

    // --- One's own account (account.self) and signing in.
    public Task<MeDto> MeAsync(CancellationToken ct = default) => GetAsync<MeDto>("api/v1/me", ct);
    /// <summary>Changes the caller's own password; <paramref name="currentPassword"/> is null only for an account without one.</summary>
    public Task ChangePasswordAsync(string? currentPassword, string newPassword, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "api/v1/me/password", new SetPasswordRequest(newPassword, currentPassword), ct);
    public Task<List<TokenDto>> ListTokensAsync(CancellationToken ct = default) => GetAsync<List<TokenDto>>("api/v1/tokens", ct);
    public Task<TokenCreatedDto> CreateTokenAsync(string name, int? expiresInDays = null, IReadOnlyList<string>? scope = null, CancellationToken ct = default) =>
        PostAsync<TokenCreatedDto>("api/v1/tokens", new CreateTokenRequest(name, expiresInDays, scope), ct);
    public Task RevokeTokenAsync(long id, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, $"api/v1/tokens/{id}", null, ct);
    /// <summary>Exchanges a username and password for a new API token (needs no token itself).</summary>
    public Task<TokenCreatedDto> LoginAsync(string username, string password, string? tokenName = null, int? expiresInDays = null, CancellationToken ct = default) =>
        PostAsync<TokenCreatedDto>("api/v1/auth/login", new LoginRequest(username, password, tokenName, expiresInDays), ct);

    // --- Audit log (audit.read).
    /// <summary>Entries newest first, filtered (the server returns at most 1000; page with <see cref="AuditFilterOptions.Before"/>).</summary>
    public Task<List<AuditEntryDto>> ListAuditAsync(AuditFilterOptions? filter = null, CancellationToken ct = default) =>
        GetAsync<List<AuditEntryDto>>("api/v1/audit" + (filter ?? new AuditFilterOptions()).ToQueryString(), ct);
    public Task<AuditVerificationDto> VerifyAuditAsync(CancellationToken ct = default) => VerifyAuditAsync(null, ct);

    /// <param name="expectHead">A head hash kept from an earlier verify: also detects truncation or a rewritten chain.</param>
    public Task<AuditVerificationDto> VerifyAuditAsync(string? expectHead, CancellationToken ct = default) =>
        GetAsync<AuditVerificationDto>("api/v1/audit/verify" + (string.IsNullOrWhiteSpace(expectHead) ? "" : "?expectHead=" + Uri.EscapeDataString(expectHead)), ct);

    /// <summary>
    /// Opens the export (oldest first, "csv" or "json") as a stream read straight from the response, so the
    /// log is never held in memory. Dispose the stream to release the connection.
    /// </summary>
    public async Task<Stream> OpenAuditExportAsync(string format, AuditFilterOptions? filter = null, CancellationToken ct = default)
    {
        var query = (filter ?? new AuditFilterOptions()).ToQueryString();
        var path = "api/v1/audit/export" + (query.Length == 0 ? "?" : query + "&") + "format=" + Uri.EscapeDataString(format);
        var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await EnsureAsync(response);
            return new ResponseStream(await response.Content.ReadAsStreamAsync(ct), response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Copies the export to <paramref name="destination"/>; returns the number of bytes written.</summary>
    public async Task<long> ExportAuditAsync(string format, Stream destination, AuditFilterOptions? filter = null, CancellationToken ct = default)
    {
        await using var source = await OpenAuditExportAsync(format, filter, ct);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
        }
        await destination.FlushAsync(ct);
        return total;
    }

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

    /// <summary>A call whose answer has no body of interest (204).</summary>
    public async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        using var response = await _http.SendAsync(request, ct);
        await EnsureAsync(response);
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

/// <summary>Filters of the audit list and export; every one optional. <see cref="Target"/> matches a substring.</summary>
public sealed record AuditFilterOptions(DateTimeOffset? From = null, DateTimeOffset? To = null, string? Actor = null, string? Action = null,
    string? Outcome = null, string? Target = null, long? Before = null, int? Limit = null)
{
    public string ToQueryString()
    {
        var parts = new List<string>();
        void Add(string name, string? value) { if (!string.IsNullOrEmpty(value)) parts.Add(name + "=" + Uri.EscapeDataString(value)); }
        Add("from", From?.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("to", To?.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("actor", Actor);
        Add("action", Action);
        Add("outcome", Outcome);
        Add("target", Target);
        Add("before", Before?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("limit", Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}

/// <summary>A response body that disposes its response (and so frees the connection) when disposed.</summary>
internal sealed class ResponseStream(Stream inner, HttpResponseMessage response) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); response.Dispose(); }
        base.Dispose(disposing);
    }
}
