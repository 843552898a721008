using System.Text.RegularExpressions;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Policies;

namespace Slipway.Server.Access;

/// <summary>
/// Accounts and their grants (admins), whichever door they come through (<see cref="UsersApi"/>, <see cref="AccessPages"/>):
/// create, disable, enable, set a password, grant and revoke. Holds the rules that keep access from widening
/// (no-self-grant, no-escalation, never the last admin) and writes a descriptive audit entry for every change.
/// </summary>
public sealed partial class UserService(UserStore users, GrantStore grants, ProjectStore projects, EnvironmentStore environments,
    SignIn.SignInThrottle throttle, TimeProvider clock)
{
    [GeneratedRegex("^[a-z][a-z0-9._-]{0,63}$")]
    private static partial Regex UsernamePattern();

    public async Task<UserRow> FindAsync(string username) =>
        await users.FindAsync(username) ?? throw new KeyNotFoundException($"no user named '{username}'");

    public async Task<IReadOnlyList<UserDto>> ListAsync()
    {
        var byUser = (await grants.ListAsync()).ToLookup(g => g.UserId);
        return (await users.ListAsync()).Select(u => u.ToDto(byUser[u.Id])).ToList();
    }

    public async Task<UserDto> ToDtoAsync(UserRow user) => user.ToDto(await grants.ForUserAsync(user.Id));

    public async Task<UserDto> CreateAsync(Actor actor, CreateUserRequest request)
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
        await actor.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user created" + (hash is null ? " without a password" : ""));
        return user.ToDto([]);
    }

    public async Task<UserDto> DisableAsync(Actor actor, string username)
    {
        var user = await FindAsync(username);
        if (user.IsDisabled) throw new ConflictException($"user '{username}' is already disabled");
        // Disabling locks someone out: only someone who holds everything the target holds may do it.
        var missing = await NotHeldOfAsync(actor.User, user);
        if (missing.Count > 0)
            throw new PolicyRefusedException($"refused by rule 'no-escalation': '{username}' holds {string.Join(", ", missing)}, which you do not; ask an admin");
        if ((await grants.ForUserAsync(user.Id)).Any(g => g.Role == BuiltInRoles.Admin && g.Project is null)
            && await grants.ActiveAdminCountAsync() <= 1)
            throw new ConflictException($"'{username}' is the last enabled admin; grant admin to someone else first");
        if (!await users.DisableAsync(user.Id, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"user '{username}' is already disabled");
        await actor.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user disabled; sessions and API tokens revoked");
        return await ToDtoAsync((await users.GetAsync(user.Id))!);
    }

    public async Task<UserDto> EnableAsync(Actor actor, string username)
    {
        var user = await FindAsync(username);
        if (!await users.EnableAsync(user.Id)) throw new ConflictException($"user '{username}' is not disabled");
        await throttle.RecordSuccessAsync(user.Username); // an admin vouched for the account: its failed sign-ins are forgotten
        await actor.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "user enabled (old sessions and tokens stay revoked)");
        return await ToDtoAsync((await users.GetAsync(user.Id))!);
    }

    /// <summary>An admin sets another user's password (their web sessions end); one's own goes through the account, with the current one.</summary>
    public async Task ResetPasswordAsync(Actor actor, string username, SetPasswordRequest request)
    {
        var user = await FindAsync(username);
        if (user.Id == actor.User.Id)
            throw new PolicyRefusedException("change your own password with POST /api/v1/me/password, which asks for the current one");
        // Whoever sets a password can sign in as that user: only someone who holds all of their grants may.
        var missing = await NotHeldOfAsync(actor.User, user);
        if (missing.Count > 0)
            throw new PolicyRefusedException($"refused by rule 'no-escalation': '{username}' holds {string.Join(", ", missing)}, which you do not; ask an admin");
        Passwords.CheckAcceptable(request.Password, user.Username);
        await users.SetPasswordAsync(user.Id, Passwords.Hash(request.Password), clock.GetUtcNow().ToUnixTimeMilliseconds());
        await throttle.RecordSuccessAsync(user.Username); // the new password gets its five tries
        await actor.AuditAsync(Actions.UserManage, AuditOutcomes.Succeeded, $"user:{username}", "password set by an admin; the user's web sessions ended; its failed sign-ins forgotten");
    }

    public async Task<UserDto> GrantAsync(Actor actor, string username, GrantRequest request)
    {
        var (user, role, grant, projectId) = await ResolveGrantAsync(username, request);
        // A grant on an environment the project does not have gives nothing: most likely a typo ("prodd"). Revoking one
        // stays possible (the environment may be gone).
        if (grant.Environment is { } env && projectId is { } pid && await environments.FindAsync(pid, env) is null)
            throw new ArgumentException($"project '{grant.Project}' has no environment '{env}'; create it first (a grant on it would give nothing)");
        // Segregation of duties: nobody widens their own access (an override needs policy.override and a
        // reason, and is flagged in the audit log), and nobody hands out what they do not hold (never overridable).
        var target = $"user:{user.Username}";
        await PolicyGate.EnforceAsync(actor, Actions.GrantManage, Policy.NoEscalation(actor.User.Username, NotHeld(actor.User, role.Actions, grant.Project, grant.Environment)), null, target);
        await PolicyGate.EnforceAsync(actor, Actions.GrantManage, Policy.NoSelfGrant(actor.User.Username, user.Username), request.OverrideReason, target);
        if (!await grants.AddAsync(user.Id, role.Name, projectId, grant.Environment, actor.User.Username, clock.GetUtcNow().ToUnixTimeMilliseconds()))
            throw new ConflictException($"'{user.Username}' already has {grant}");
        await actor.AuditAsync(Actions.GrantManage, AuditOutcomes.Succeeded, target, $"granted {grant}" + (grant.IsGlobal ? " (global)" : ""));
        return await ToDtoAsync(user);
    }

    public async Task<UserDto> RevokeGrantAsync(Actor actor, string username, GrantRequest request)
    {
        var (user, role, grant, projectId) = await ResolveGrantAsync(username, request);
        // Only someone who could have given a grant may take it away (a team lead cannot strip an admin).
        await PolicyGate.EnforceAsync(actor, Actions.GrantManage, Policy.NoEscalation(actor.User.Username, NotHeld(actor.User, role.Actions, grant.Project, grant.Environment)),
            null, $"user:{user.Username}");
        if (role.Name == BuiltInRoles.Admin && projectId is null && await grants.ActiveAdminCountAsync() <= 1
            && (await grants.ForUserAsync(user.Id)).Any(g => g.Role == BuiltInRoles.Admin && g.Project is null))
            throw new ConflictException("this is the last enabled admin; grant admin to someone else first");
        if (!await grants.RemoveAsync(user.Id, role.Name, projectId, grant.Environment))
            throw new ConflictException($"'{user.Username}' does not have {grant}");
        await actor.AuditAsync(Actions.GrantManage, AuditOutcomes.Succeeded, $"user:{user.Username}", $"revoked {grant}");
        return await ToDtoAsync(user);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex EnvironmentPattern();

    /// <summary>
    /// The grant in canonical form: the role as defined, the project as stored (blank means global, decided once
    /// here so the escalation check, the insert and the audit entry can never disagree), a checked environment.
    /// </summary>
    private async Task<(UserRow User, Role Role, Grant Grant, long? ProjectId)> ResolveGrantAsync(string username, GrantRequest request)
    {
        var user = await FindAsync(username);
        var name = request.Role?.Trim() ?? "";
        var role = BuiltInRoles.Find(name)
                   ?? (await grants.CustomRolesAsync()).Where(r => r.Name == name).Select(Authenticator.ToRole).FirstOrDefault()
                   ?? throw new ArgumentException($"no role named '{name}'");
        var project = string.IsNullOrWhiteSpace(request.Project) ? null : await projects.RequireAsync(request.Project.Trim());
        var environment = string.IsNullOrWhiteSpace(request.Environment) ? null : request.Environment.Trim();
        if (environment is not null && !EnvironmentPattern().IsMatch(environment))
            throw new ArgumentException("an environment name is 1-64 letters, digits, '.', '_' or '-'");
        if (environment is not null && project is null) throw new ArgumentException("an environment grant needs a project");
        return (user, role, new Grant(role.Name, project?.Name, environment), project?.Id);
    }

    /// <summary>
    /// The actions a grant of <paramref name="actions"/> (globally, or on a project) would give that the actor does
    /// not hold there (a role's server actions count only for a global grant). A global grant needs global holdings: its project actions are checked on a project no grant
    /// names, so the actor's grant on one project does not pass for all of them.
    /// </summary>
    private static List<string> NotHeld(Principal.User actor, IEnumerable<string> actions, string? project, string? environment)
    {
        var scope = new Scope(project ?? "\0every project", project is null ? null : environment);
        // What the grant would give there, by the one rule in Permissions (a project grant: the project actions
        // plus one's own account and the UI), compared with what the actor holds there.
        var granted = new Role("granted", "", actions.ToHashSet(StringComparer.Ordinal), BuiltIn: false);
        var given = new Permissions([new Grant(granted.Name, project, environment)], _ => granted);
        return granted.Actions.Where(a => given.Can(a, scope) && !actor.Permissions.Can(a, scope)).Order().ToList();
    }

    /// <summary>What the grants of <paramref name="user"/> give that the actor does not hold.</summary>
    private async Task<IReadOnlyList<string>> NotHeldOfAsync(Principal.User actor, UserRow user)
    {
        var rows = await grants.ForUserAsync(user.Id);
        if (rows.Count == 0) return [];
        var custom = (await grants.CustomRolesAsync()).Select(Authenticator.ToRole).ToDictionary(r => r.Name);
        return rows.SelectMany(g => NotHeld(actor, (BuiltInRoles.Find(g.Role) ?? custom.GetValueOrDefault(g.Role))?.Actions ?? new HashSet<string>(),
            g.Project, g.Environment)).Distinct().Order().ToList();
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
