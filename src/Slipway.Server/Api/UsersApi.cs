using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Server.Access;
using Slipway.Server.Access.SignIn;
using Slipway.Server.Audit;
using Slipway.Server.Storage;

namespace Slipway.Server.Api;

/// <summary>/api/v1/users: accounts and their grants (admins). Each change writes a descriptive audit entry.</summary>
public static partial class UsersApi
{
    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/users", ListAsync).RequireAction(Actions.UserRead);
        api.MapPost("/users", CreateAsync).RequireAction(Actions.UserManage);
        api.MapGet("/users/{username}", async (string username, UserStore users, GrantStore grants) =>
            await ToDtoAsync(await Find(users, username), grants)).RequireAction(Actions.UserRead);
        api.MapPost("/users/{username}/disable", DisableAsync).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/enable", EnableAsync).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/password", ResetPasswordAsync).RequireAction(Actions.UserManage);
        api.MapPost("/users/{username}/grants", GrantAsync).RequireAction(Actions.GrantManage);
        api.MapPost("/users/{username}/grants/revoke", RevokeGrantAsync).RequireAction(Actions.GrantManage);
    }

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,63}$")]
    private static partial Regex UsernamePattern();

    public static async Task<UserRow> Find(UserStore users, string username) =>
        await users.FindAsync(username) ?? throw new KeyNotFoundException($"no user named '{username}'");

    public static async Task<IReadOnlyList<UserDto>> ListAsync(UserStore users, GrantStore grants)
    {
        var byUser = (await grants.ListAsync()).ToLookup(g => g.UserId);
        return (await users.ListAsync()).Select(u => u.ToDto(byUser[u.Id])).ToList();
    }

    private static async Task<UserDto> ToDtoAsync(UserRow user, GrantStore grants) => user.ToDto(await grants.ForUserAsync(user.Id));

    internal static async Task<IResult> CreateAsync(CreateUserRequest request, HttpContext context, UserStore users, TimeProvider clock)
    {
        var username = request.Username?.Trim() ?? "";
        if (!UsernamePattern().IsMatch(username))
            throw new ArgumentException("a username is 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter");
        var displayName = Clean(request.DisplayName, 200, "display name");
        var email = Clean(request.Email, 254, "email");
        if (email is not null && !email.Contains('@')) throw new ArgumentException("an email address needs an '@'");
        string? hash = null;
        if (request.Password is not null)
        {
            Passwords.CheckAcceptable(request.Password, username);
            hash = Passwords.Hash(request.Password);
        }
        var user = await users.CreateAsync(username, displayName, email, hash, clock.GetUtcNow().ToUnixTimeMilliseconds())
                   ?? throw new ConflictException($"a user named '{username}' already exists");
        await context.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user created" + (hash is null ? " without a password" : ""));
        return Results.Created($"/api/v1/users/{username}", user.ToDto([]));
    }

    internal static async Task<UserDto> DisableAsync(string username, HttpContext context, UserStore users, GrantStore grants, TimeProvider clock)
    {
        var user = await Find(users, username);
        if (user.IsDisabled) throw new ConflictException($"user '{username}' is already disabled");
        if ((await grants.ForUserAsync(user.Id)).Any(g => g.Role == BuiltInRoles.Admin && g.Project is null)
            && await grants.ActiveAdminCountAsync() <= 1)
            throw new ConflictException($"'{username}' is the last enabled admin; grant admin to someone else first");
        if (!await users.DisableAsync(user.Id, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"user '{username}' is already disabled");
        await context.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user disabled; sessions and API tokens revoked");
        return await ToDtoAsync((await users.GetAsync(user.Id))!, grants);
    }

    internal static async Task<UserDto> EnableAsync(string username, HttpContext context, UserStore users, GrantStore grants)
    {
        var user = await Find(users, username);
        if (!await users.EnableAsync(user.Id)) throw new ConflictException($"user '{username}' is not disabled");
        await context.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user enabled (old sessions and tokens stay revoked)");
        return await ToDtoAsync((await users.GetAsync(user.Id))!, grants);
    }

    private static async Task<IResult> ResetPasswordAsync(string username, SetPasswordRequest request, HttpContext context, UserStore users)
    {
        var user = await Find(users, username);
        Passwords.CheckAcceptable(request.Password, user.Username);
        await users.SetPasswordAsync(user.Id, Passwords.Hash(request.Password));
        await context.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "password set by an admin");
        return Results.NoContent();
    }

    internal static async Task<UserDto> GrantAsync(string username, GrantRequest request, HttpContext context, UserStore users,
        GrantStore grants, ProjectStore projects, TimeProvider clock)
    {
        var actor = context.RequireUser();
        var (user, role, projectId, environment) = await ResolveGrantAsync(username, request, users, grants, projects);
        // Segregation of duties: nobody widens their own access, and nobody hands out what they do not hold.
        if (user.Id == actor.Id)
            throw new PolicyRefusedException("refused by rule 'no-self-grant': a user may not change their own grants; ask another admin");
        var missing = role.Actions.Where(a => !actor.Permissions.Can(a, request.Project is null ? Scope.Server : new Scope(request.Project, environment))).Order().ToList();
        if (missing.Count > 0)
            throw new PolicyRefusedException($"refused by rule 'no-escalation': you do not hold {string.Join(", ", missing)} and cannot grant it");
        if (!await grants.AddAsync(user.Id, role.Name, projectId, environment, actor.Username, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"'{username}' already has {new Grant(role.Name, request.Project, environment)}");
        await context.AuditAsync(Actions.GrantManage, AuditOutcomes.Succeeded, $"user:{username}", $"granted {new Grant(role.Name, request.Project, environment)}");
        return await ToDtoAsync(user, grants);
    }

    internal static async Task<UserDto> RevokeGrantAsync(string username, GrantRequest request, HttpContext context, UserStore users,
        GrantStore grants, ProjectStore projects)
    {
        var (user, role, projectId, environment) = await ResolveGrantAsync(username, request, users, grants, projects);
        var grant = new Grant(role.Name, request.Project, environment);
        if (role.Name == BuiltInRoles.Admin && projectId is null && await grants.ActiveAdminCountAsync() <= 1
            && (await grants.ForUserAsync(user.Id)).Any(g => g.Role == BuiltInRoles.Admin && g.Project is null))
            throw new ConflictException("this is the last enabled admin; grant admin to someone else first");
        if (!await grants.RemoveAsync(user.Id, role.Name, projectId, environment))
            throw new ConflictException($"'{username}' does not have {grant}");
        await context.AuditAsync(Actions.GrantManage, AuditOutcomes.Succeeded, $"user:{username}", $"revoked {grant}");
        return await ToDtoAsync(user, grants);
    }

    private static async Task<(UserRow User, Role Role, long? ProjectId, string? Environment)> ResolveGrantAsync(
        string username, GrantRequest request, UserStore users, GrantStore grants, ProjectStore projects)
    {
        var user = await Find(users, username);
        var name = request.Role?.Trim() ?? "";
        var role = BuiltInRoles.Find(name)
                   ?? (await grants.CustomRolesAsync()).Where(r => r.Name == name).Select(Authenticator.ToRole).FirstOrDefault()
                   ?? throw new ArgumentException($"no role named '{name}'");
        long? projectId = null;
        if (!string.IsNullOrWhiteSpace(request.Project))
            projectId = (await ProjectsApi.Find(projects, request.Project)).Id;
        var environment = string.IsNullOrWhiteSpace(request.Environment) ? null : request.Environment.Trim();
        if (environment is not null && projectId is null) throw new ArgumentException("an environment grant needs a project");
        return (user, role, projectId, environment);
    }

    private static string? Clean(string? value, int max, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        if (value.Length > max) throw new ArgumentException($"the {what} has at most {max} characters");
        if (value.Any(char.IsControl)) throw new ArgumentException($"the {what} must not contain control characters");
        return value;
    }
}

/// <summary>A segregation-of-duties rule refused the action; the message names the rule. Answered with 403.</summary>
public sealed class PolicyRefusedException(string message) : Exception(message);
