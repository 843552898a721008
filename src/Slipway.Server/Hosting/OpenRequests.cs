using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Slipway.Server.Hosting;

/// <summary>
/// The requests this node is handling now, but for those that wait by design (<see cref="WaitsByDesign"/>: an agent's long
/// poll, a followed log, the health check, a metrics scrape) and those refused access: the work a draining node still has
/// in hand. Each heartbeat writes the count to the node's row (server_nodes.open_requests), so an operator stops a drained
/// node once it is 0 (<c>slipway node drain NAME --wait</c>, Core/Nodes/NodeStates) instead of guessing how long to wait.
/// A client can keep a request open as long as it sends its body faster than Kestrel's minimum rate (240 bytes/s), so a
/// count that does not fall is a client's doing: the node list shows it, and stopping the node ends it.
/// </summary>
public sealed class OpenRequests
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The middleware: after routing, so that the endpoint's metadata says whether the request waits by design.</summary>
    public async Task CountAsync(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<WaitsByDesign>() is not null)
        {
            await next(context);
            return;
        }
        Interlocked.Increment(ref _count);
        try { await next(context); }
        finally { Interlocked.Decrement(ref _count); }
    }
}

/// <summary>
/// Marks an endpoint whose requests are not work in hand: they wait for something by design (long polls, log follows) and
/// their clients carry on through another node when this one stops, or they are the health check itself.
/// </summary>
public sealed class WaitsByDesign
{
    public static readonly WaitsByDesign Instance = new();

    private WaitsByDesign() { }
}

public static class WaitsByDesignExtensions
{
    /// <summary>Not counted among the node's open requests (<see cref="OpenRequests"/>).</summary>
    public static TBuilder WaitsByDesign<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Hosting.WaitsByDesign.Instance);
}
