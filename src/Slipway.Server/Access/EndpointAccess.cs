using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Slipway.Server.Access;

/// <summary>The action an endpoint performs, attached as endpoint metadata.</summary>
public sealed record ActionMetadata(string Action);

public static class EndpointAccess
{
    /// <summary>Names the action of an endpoint; <see cref="AccessMiddleware"/> refuses endpoints that have none.</summary>
    public static TBuilder RequireAction<TBuilder>(this TBuilder builder, string action) where TBuilder : IEndpointConventionBuilder
    {
        if (!Actions.All.Contains(action)) throw new ArgumentException($"'{action}' is not in the action catalogue", nameof(action));
        builder.Add(b => b.Metadata.Add(new ActionMetadata(action)));
        return builder;
    }

    public static Principal? GetPrincipal(this HttpContext context) => context.Items[typeof(Principal)] as Principal;

    public static Principal.User RequireUser(this HttpContext context) =>
        context.GetPrincipal() as Principal.User ?? throw new InvalidOperationException("endpoint reached without a user");

    public static Principal.Agent RequireAgent(this HttpContext context) =>
        context.GetPrincipal() as Principal.Agent ?? throw new InvalidOperationException("endpoint reached without an agent");
}
