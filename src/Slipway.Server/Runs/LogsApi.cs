using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Logs;
using Slipway.Core.Runs;
using Slipway.Core.Access;

namespace Slipway.Server.Runs;

/// <summary>
/// Job logs: pages by byte offset (<c>GET .../log?offset=&amp;limit=</c>) and a live follow as server-sent
/// events (<c>GET .../log/follow?offset=</c>). Text is decoded safely (invalid UTF-8 and control bytes
/// replaced) and pages end on character boundaries; offsets always count raw bytes. The follow takes <c>ansi=true</c>
/// to keep the escape character (the web UI turns colour codes into styled text and section markers into folds).
/// </summary>
public static class LogsApi
{
    private const int DefaultPage = 256 * 1024;
    private const int MaxPage = 1024 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapLogsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/runs/{id:long}/jobs/{job}/log", PageAsync).RequireAction(Actions.LogRead);
        api.MapGet("/runs/{id:long}/jobs/{job}/log/follow", FollowAsync).RequireAction(Actions.LogRead).WaitsByDesign();
        api.MapGet("/runs/{id:long}/jobs/{job}/log/raw", RawAsync).RequireAction(Actions.LogRead);
        api.MapGet("/runs/{id:long}/jobs/{job}/log/targets/{target}", TargetAsync).RequireAction(Actions.LogRead);
    }

    /// <summary>The most of one target's log returned at once; its newest part is kept.</summary>
    public const int MaxTargetLogChars = 4 << 20;

    /// <summary>
    /// One target's part of a rolling deployment's log (the deploy or repair job): the lines the agent wrote with the
    /// target's prefix, "[web-3] ...", in order, as plain text.
    /// </summary>
    private static async Task<IResult> TargetAsync(long id, string job, string target, RunStore runs, LogStore logs, CancellationToken ct)
    {
        var row = await FindJob(runs, id, job);
        await using var stream = await logs.OpenReadAsync(row.Id, ct);
        var prefix = $"[{target}] ";
        var text = new System.Text.StringBuilder();
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
            text.Append(line).Append('\n');
            if (text.Length > 2 * MaxTargetLogChars) text.Remove(0, text.Length - MaxTargetLogChars);
        }
        return Results.Text(text.Length > MaxTargetLogChars ? text.ToString(text.Length - MaxTargetLogChars, MaxTargetLogChars) : text.ToString(),
            "text/plain; charset=utf-8");
    }

    private static async Task<JobRow> FindJob(RunStore runs, long id, string job) =>
        await runs.FindJobAsync(id, job) ?? throw new KeyNotFoundException($"run {id} has no job '{job}'");

    public static async Task<LogPageDto> ReadPageAsync(LogStore logs, JobRow job, long offset, int limit, CancellationToken ct, bool keepEscapes = false)
    {
        offset = Math.Max(0, offset);
        var state = await logs.StateAsync(job.Id, ct);
        var length = state.Length;
        var done = StatusNames.Parse(job.Status).IsFinal();
        var bytes = await logs.ReadAsync(job.Id, state, offset, limit, ct);
        var atEnd = offset + bytes.Length >= length;
        var usable = LogText.SafeLength(bytes, isEnd: atEnd && done);
        var text = LogText.Decode(bytes.AsSpan(0, usable), keepEscapes);
        var next = offset + usable;
        return new LogPageDto(offset, next, text, done && next >= length, state.Truncated);
    }

    private static async Task<LogPageDto> PageAsync(long id, string job, long? offset, int? limit, RunStore runs, LogStore logs, CancellationToken ct)
    {
        var row = await FindJob(runs, id, job);
        return await ReadPageAsync(logs, row, offset ?? 0, Math.Clamp(limit ?? DefaultPage, 4, MaxPage), ct);
    }

    private static async Task<IResult> RawAsync(long id, string job, RunStore runs, LogStore logs, CancellationToken ct)
    {
        var row = await FindJob(runs, id, job);
        return Results.Stream(await logs.OpenReadAsync(row.Id, ct), "text/plain; charset=utf-8");
    }

    /// <summary>
    /// Server-sent events: <c>event: log</c> with a <see cref="LogPageDto"/> as data, then <c>event: end</c>
    /// when the job has finished and everything was sent. Wakes on appends; re-checks every second anyway.
    /// </summary>
    private static async Task FollowAsync(long id, string job, long? offset, bool? ansi, HttpContext context, RunStore runs, LogStore logs, WorkSignal signal,
        Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = linked.Token;
        var row = await FindJob(runs, id, job);
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var position = Math.Max(0, offset ?? 0);
        var lastWrite = DateTime.UtcNow;
        while (!ct.IsCancellationRequested)
        {
            var woken = signal.WaitAsync(WorkSignal.Log(row.Id));
            row = await FindJob(runs, id, job);
            var page = await ReadPageAsync(logs, row, position, DefaultPage, ct, ansi == true);
            if (page.NextOffset > position || page.Complete)
            {
                await context.Response.WriteAsync($"event: log\ndata: {JsonSerializer.Serialize(page, Json)}\n\n", ct);
                position = page.NextOffset;
                lastWrite = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - lastWrite > TimeSpan.FromSeconds(15))
            {
                // A comment line keeps proxies with idle timeouts from cutting a quiet job's stream.
                await context.Response.WriteAsync(": keep-alive\n\n", ct);
                lastWrite = DateTime.UtcNow;
            }
            if (page.Complete)
            {
                await context.Response.WriteAsync($"event: end\ndata: {{\"status\":\"{row.Status}\"}}\n\n", ct);
                await context.Response.Body.FlushAsync(ct);
                return;
            }
            await context.Response.Body.FlushAsync(ct);
            if (page.NextOffset - page.Offset >= DefaultPage / 2) continue; // more is waiting: don't sleep
            try { await woken.WaitAsync(TimeSpan.FromSeconds(1), ct); }
            catch (TimeoutException) { }
            catch (OperationCanceledException) { return; }
        }
    }
}
