using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Protocol;

/// <summary>The lease on a job is gone (expired, or the job was taken away): abandon the job.</summary>
public sealed class LeaseLostException(long jobId) : Exception($"lease on job {jobId} lost");

/// <summary>The server refused the call in a way that will not change by retrying now (401/403/400, or 409 at registration).</summary>
public sealed class AgentRefusedException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// HTTP client for the agent protocol (docs/agent-protocol.md). One instance per agent, thread-safe
/// (HttpClient is), shared by all slots.
/// </summary>
public sealed class AgentProtocolClient : IAgentProtocol, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public AgentProtocolClient(string serverUrl, HttpMessageHandler? handler = null)
    {
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2), MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri(serverUrl.TrimEnd('/') + AgentRoutes.Prefix + "/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public void UseCredential(string credential) =>
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);

    public async Task<RegisterAgentResponse> RegisterAsync(string registrationToken, RegisterAgentRequest request, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, AgentRoutes.Register) { Content = JsonContent.Create(request, options: Json) };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", registrationToken);
        using var response = await _http.SendAsync(message, ct);
        await EnsureAsync(response, 0);
        return (await response.Content.ReadFromJsonAsync<RegisterAgentResponse>(Json, ct))!;
    }

    public async Task<JobLease?> PollAsync(int freeSlots, TimeSpan wait, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait + TimeSpan.FromSeconds(30));
        using var response = await _http.PostAsJsonAsync(AgentRoutes.Poll, new PollRequest(freeSlots, (int)wait.TotalSeconds), Json, timeout.Token);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        await EnsureAsync(response, 0);
        return await response.Content.ReadFromJsonAsync<JobLease>(Json, ct);
    }

    public async Task<Stream> SourceAsync(JobLease lease, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Get, AgentRoutes.For(AgentRoutes.Source, lease.JobId), lease);
        var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureAsync(response, lease.JobId);
        return await response.Content.ReadAsStreamAsync(ct);
    }

    public async Task StartAsync(JobLease lease, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.Start, lease.JobId), lease);
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
    }

    /// <summary>Renews the lease; the server holds the call up to <paramref name="wait"/> unless cancellation is asked.</summary>
    public async Task<RenewResponse> RenewAsync(JobLease lease, TimeSpan wait, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait + TimeSpan.FromSeconds(10));
        using var response = await _http.PostAsJsonAsync(AgentRoutes.For(AgentRoutes.Renew, lease.JobId), new RenewRequest(lease.LeaseId, (int)wait.TotalSeconds), Json, timeout.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<RenewResponse>(Json, ct))!;
    }

    public async Task<LogAppendResponse> AppendLogAsync(JobLease lease, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.Log, lease.JobId), lease);
        message.Content = new ReadOnlyMemoryContent(bytes);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<LogAppendResponse>(Json, deadline.Token))!;
    }

    public async Task<ArtifactRef> UploadArtifactAsync(JobLease lease, string relativePath, bool executable, Stream content, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.UploadArtifact, lease.JobId), lease);
        message.Headers.Add(AgentHeaders.ArtifactPath, relativePath);
        if (executable) message.Headers.Add(AgentHeaders.ArtifactExecutable, "1");
        message.Content = new StreamContent(content, 1 << 16);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var deadline = Deadline(ct, TransferTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<ArtifactRef>(Json, ct))!;
    }

    public async Task<Stream> DownloadArtifactAsync(JobLease lease, string sha256, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Get, AgentRoutes.For(AgentRoutes.DownloadArtifact, lease.JobId, sha256), lease);
        var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureAsync(response, lease.JobId);
        return await response.Content.ReadAsStreamAsync(ct);
    }

    public async Task ReportTargetAsync(JobLease lease, TargetProgressRequest progress, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.TargetProgress, lease.JobId), lease);
        message.Content = JsonContent.Create(progress, options: Json);
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
    }

    public async Task FinishAsync(JobLease lease, FinishJobRequest request, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.Finish, lease.JobId), lease);
        message.Content = JsonContent.Create(request, options: Json);
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
    }

    public async Task<TargetDecisionDto?> TargetDecisionAsync(JobLease lease, string target, TimeSpan wait, CancellationToken ct)
    {
        var path = AgentRoutes.For(AgentRoutes.TargetDecision, lease.JobId) + $"?target={Uri.EscapeDataString(target)}&waitSeconds={(int)wait.TotalSeconds}";
        using var message = Leased(HttpMethod.Get, path, lease);
        using var deadline = Deadline(ct, wait + CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        await EnsureAsync(response, lease.JobId);
        return await response.Content.ReadFromJsonAsync<TargetDecisionDto>(Json, ct);
    }

    public async Task<NodeFileStored> UploadNodeFileAsync(JobLease lease, Stream content, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.NodeFiles, lease.JobId), lease);
        message.Content = new StreamContent(content, 1 << 16);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var deadline = Deadline(ct, TransferTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<NodeFileStored>(Json, ct))!;
    }

    public async Task<NodeTaskCreated> CreateNodeTaskAsync(JobLease lease, NodeTaskRequest request, CancellationToken ct)
    {
        using var message = Leased(HttpMethod.Post, AgentRoutes.For(AgentRoutes.NodeTasks, lease.JobId), lease);
        message.Content = JsonContent.Create(request, options: Json);
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<NodeTaskCreated>(Json, ct))!;
    }

    public async Task<NodeTaskStatus> NodeTaskStatusAsync(JobLease lease, long taskId, TimeSpan wait, CancellationToken ct)
    {
        var path = AgentRoutes.ForTask(AgentRoutes.NodeTaskStatus, taskId, lease.JobId) + $"?waitSeconds={(int)wait.TotalSeconds}";
        using var message = Leased(HttpMethod.Get, path, lease);
        using var deadline = Deadline(ct, wait + CallTimeout);
        using var response = await _http.SendAsync(message, deadline.Token);
        await EnsureAsync(response, lease.JobId);
        return (await response.Content.ReadFromJsonAsync<NodeTaskStatus>(Json, ct))!;
    }

    public async Task<NodeTask?> NodePollAsync(TimeSpan wait, CancellationToken ct)
    {
        using var timeout = Deadline(ct, wait + TimeSpan.FromSeconds(30));
        using var response = await _http.PostAsJsonAsync(AgentRoutes.NodePoll, new NodePollRequest((int)wait.TotalSeconds), Json, timeout.Token);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        await EnsureAsync(response, 0);
        return await response.Content.ReadFromJsonAsync<NodeTask>(Json, ct);
    }

    public async Task<Stream> NodeTaskFileAsync(long taskId, CancellationToken ct)
    {
        var response = await _http.GetAsync(AgentRoutes.ForTask(AgentRoutes.NodeTaskFile, taskId), HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureAsync(response, 0);
        return await response.Content.ReadAsStreamAsync(ct);
    }

    public async Task<NodeTaskCheck> NodeTaskCheckAsync(long taskId, CancellationToken ct)
    {
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.GetAsync(AgentRoutes.ForTask(AgentRoutes.NodeTaskCheck, taskId), deadline.Token);
        await EnsureAsync(response, 0);
        return (await response.Content.ReadFromJsonAsync<NodeTaskCheck>(Json, ct))!;
    }

    public async Task NodeTaskFinishAsync(long taskId, NodeTaskFinish result, CancellationToken ct)
    {
        using var deadline = Deadline(ct, CallTimeout);
        using var response = await _http.PostAsJsonAsync(AgentRoutes.ForTask(AgentRoutes.NodeTaskFinish, taskId), result, Json, deadline.Token);
        await EnsureAsync(response, 0);
    }

    /// <summary>Every call that is not a long-poll gets a deadline: a half-open connection must not hang a job.</summary>
    private static CancellationTokenSource Deadline(CancellationToken ct, TimeSpan after)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(after);
        return cts;
    }

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(30);

    private static HttpRequestMessage Leased(HttpMethod method, string path, JobLease lease)
    {
        var message = new HttpRequestMessage(method, path);
        message.Headers.Add(AgentHeaders.LeaseId, lease.LeaseId);
        return message;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, long jobId)
    {
        if (response.IsSuccessStatusCode) return;
        if (response.StatusCode == HttpStatusCode.Conflict && jobId != 0) throw new LeaseLostException(jobId);
        var body = await response.Content.ReadAsStringAsync();
        string message;
        try { message = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString() ?? body; }
        catch (Exception) { message = body; }
        // A 409 to a call about no job (registration: the name is taken) will not change by retrying either.
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest
            || (response.StatusCode == HttpStatusCode.Conflict && jobId == 0))
            throw new AgentRefusedException(response.StatusCode, message);
        throw new HttpRequestException($"{(int)response.StatusCode}: {message}", null, response.StatusCode);
    }

    public void Dispose() => _http.Dispose();
}
