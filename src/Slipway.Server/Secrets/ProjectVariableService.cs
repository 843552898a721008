using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;

namespace Slipway.Server.Secrets;

/// <summary>
/// A project's variables and secrets: list, set, delete, with the rules (<see cref="VariablesApi.CheckValue"/>) and the
/// audit entries in one place for the API and the project's variables page. A secret's value goes in once (encrypted
/// before it is stored) and never comes out; nothing here logs or audits a value.
/// </summary>
public sealed class ProjectVariableService(ProjectStore projects, VariableStore variables, SecretVault vault, TimeProvider clock)
{
    public async Task<IReadOnlyList<VariableDto>> ListAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        return (await variables.ListAsync(project.Id)).Select(ToDto).ToList();
    }

    public async Task<VariableDto> SetAsync(Actor actor, string name, string variable, SetVariableRequest? request)
    {
        var value = VariablesApi.CheckValue(variable, request);
        var project = await projects.RequireAsync(name);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var row = request!.Secret
            ? await variables.SetAsync(project.Id, variable, null, vault.Protect(value), actor.User.Username, now, request.Protected)
            : await variables.SetAsync(project.Id, variable, value, null, actor.User.Username, now, request.Protected);
        // Evidence of who set which secret when, and whether branches may have it; never the value (nor a plain variable's value).
        await actor.AuditAsync(Actions.VariableWrite, AuditOutcomes.Succeeded, $"project:{name} variable:{variable}",
            (request.Secret ? "secret set (value not recorded)" : "variable set (value not recorded)") +
            (row.IsProtected ? ", protected: only protected branches and deployments get it" : ", unprotected: every branch's jobs may get it"));
        return ToDto(row);
    }

    public async Task DeleteAsync(Actor actor, string name, string variable)
    {
        var project = await projects.RequireAsync(name);
        if (!await variables.DeleteAsync(project.Id, variable))
            throw new KeyNotFoundException($"project '{name}' has no variable named '{variable}'");
        await actor.AuditAsync(Actions.VariableWrite, AuditOutcomes.Succeeded, $"project:{name} variable:{variable}", "variable deleted");
    }

    private static VariableDto ToDto(VariableRow row) =>
        new(row.Name, row.IsSecret, row.IsSecret ? null : row.Value, UnixMs.To(row.UpdatedAt), row.UpdatedBy, row.IsProtected);
}
