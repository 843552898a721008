using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Connecting an SSH.NET client with one overall deadline. <c>ConnectionInfo.Timeout</c> bounds each wait
/// separately (TCP connect, banner, each key-exchange message); the deadline here bounds the whole, and a
/// host that accepts TCP but never speaks (a hung sshd, a firewall that accepts) is abandoned at that point.
/// </summary>
internal static class SshConnect
{
    public static async Task WithDeadlineAsync(BaseClient client, string target, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var connect = client.ConnectAsync(linked.Token);
        // ConnectAsync honours the token, but a last guard makes sure no phase can hang past the deadline.
        var guard = Task.Delay(timeout + TimeSpan.FromSeconds(1), ct);
        if (await Task.WhenAny(connect, guard) == guard)
        {
            _ = connect.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            ct.ThrowIfCancellationRequested();
            throw TimedOut(target, timeout);
        }
        try
        {
            await connect;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw TimedOut(target, timeout);
        }
        catch (SshOperationTimeoutException ex)
        {
            throw new SshTargetException($"SSH to {target}: no answer within {timeout.TotalSeconds:0.#} s ({ex.Message})", ex);
        }
        catch (SocketException ex)
        {
            throw new SshTargetException($"SSH to {target}: cannot connect ({Describe(ex.SocketErrorCode)})", ex);
        }
        catch (SshConnectionException ex)
        {
            throw new SshTargetException($"SSH to {target}: the SSH session failed ({ex.Message})", ex);
        }
    }

    private static SshTargetException TimedOut(string target, TimeSpan timeout) =>
        new($"SSH to {target}: connecting timed out after {timeout.TotalSeconds:0.#} s (host unreachable or not answering)");

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused: nothing listens on that port",
        SocketError.TimedOut => "timed out",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
        SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "host name not found",
        _ => error.ToString(),
    };
}
