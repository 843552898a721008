using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;

namespace Slipway.Server.Access;

/// <summary>/api/v1/users: accounts and their grants (admins); a thin adapter over <see cref="UserService"/>.</summary>
public static class UsersApi
{
    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/users", (UserService service) => service.ListAsync()).RequireAction(Actions.UserRead);
        api.MapPost("/users", async (CreateUserRequest request, HttpContext context, UserService service) =>
        {
            var user = await service.CreateAsync(Actor.Of(context), request);
            return Results.Created($"/api/v1/users/{user.Username}", user);
        }).RequireAction(Actions.UserManage);
        api.MapGet("/users/{username}", async (string username, UserService service) =>
            await service.ToDtoAsync(await service.FindAsync(username))).RequireAction(Actions.UserRead);
        api.MapPost("/users/{username}/disable", (string username, HttpContext context, UserService service) =>
            service.DisableAsync(Actor.Of(context), username)).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/enable", (string username, HttpContext context, UserService service) =>
            service.EnableAsync(Actor.Of(context), username)).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/password", async (string username, SetPasswordRequest request, HttpContext context, UserService service) =>
        {
            await service.ResetPasswordAsync(Actor.Of(context), username, request);
            return Results.NoContent();
        }).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/grants", (string username, GrantRequest request, HttpContext context, UserService service) =>
            service.GrantAsync(Actor.Of(context), username, request)).RequireAction(Actions.GrantManage);
        api.MapPost("/users/{username}/grants/revoke", (string username, GrantRequest request, HttpContext context, UserService service) =>
            service.RevokeGrantAsync(Actor.Of(context), username, request)).RequireAction(Actions.GrantManage);
    }
}


/// <summary>A segregation-of-duties rule refused the action; the message names the rule. Answered with 403.</summary>
public sealed class PolicyRefusedException(string message) : Exception(message);
