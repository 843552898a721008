using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>The action an endpoint performs, attached as endpoint metadata.</summary>
public sealed record ActionMetadata(string Action);

/// <summary>Marks a web UI page: an anonymous GET is sent to the sign-in page instead of getting a 401.</summary>
public sealed record UiPageMetadata;

public static class EndpointAccess
{
    /// <summary>Names the action of an endpoint; <see cref="AccessMiddleware"/> refuses endpoints that have none.</summary>
    public static TBuilder RequireAction<TBuilder>(this TBuilder builder, string action) where TBuilder : IEndpointConventionBuilder
    {
        Actions.Get(action); // throws for a name outside the catalogue
        builder.Add(b => b.Metadata.Add(new ActionMetadata(action)));
        return builder;
    }

    /// <summary>A UI page: named action plus the sign-in redirect for anonymous browsers.</summary>
    public static TBuilder RequirePageAction<TBuilder>(this TBuilder builder, string action) where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireAction(action);
        builder.Add(b => b.Metadata.Add(new UiPageMetadata()));
        return builder;
    }

    public static Principal? GetPrincipal(this HttpContext context) => context.Items[typeof(Principal)] as Principal;

    public static Principal.User RequireUser(this HttpContext context) =>
        context.GetPrincipal() as Principal.User ?? throw new InvalidOperationException("endpoint reached without a user");

    public static Principal.Agent RequireAgent(this HttpContext context) =>
        context.GetPrincipal() as Principal.Agent ?? throw new InvalidOperationException("endpoint reached without an agent");
}
