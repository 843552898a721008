using System.Text;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Secrets;

namespace Slipway.Server.Secrets;

/// <summary>
/// A project's variables and secrets: list, set, delete, with the rules (<see cref="CheckValue"/>) and the
/// audit entries in one place for the API and the project's variables page. A secret's value goes in once (encrypted
/// before it is stored) and never comes out; nothing here logs or audits a value.
/// </summary>
public sealed class ProjectVariableService(ProjectStore projects, VariableStore variables, SecretVault vault, TimeProvider clock)
{
    public const int MaxValueBytes = 64 * 1024;

    /// <summary>
    /// The rules for a variable's name and value, shared by project and environment variables: a valid name, at most
    /// <see cref="MaxValueBytes"/>, and a secret long enough (and not blank) to be masked. Returns the value.
    /// </summary>
    public static string CheckValue(string variable, SetVariableRequest? request)
    {
        if (VariableNames.Check(variable) is { } nameError) throw new ArgumentException(nameError);
        var value = request?.Value ?? throw new ArgumentException("the body must be {\"value\": \"...\", \"secret\": true|false}; 'value' is missing");
        if (Encoding.UTF8.GetByteCount(value) > MaxValueBytes)
            throw new ArgumentException($"the value of '{variable}' is larger than {MaxValueBytes / 1024} KiB");
        if (request.Secret && value.Length < SecretMasker.MinimumLength)
            throw new ArgumentException($"secret '{variable}' is shorter than {SecretMasker.MinimumLength} characters; " +
                                        "masking it would hide ordinary text in every log, so it is refused");
        if (request.Secret && string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"secret '{variable}' is only whitespace; masking it would hide ordinary text in every log, so it is refused");
        return value;
    }

    public async Task<IReadOnlyList<VariableDto>> ListAsync(string name)
    {
        var project = await projects.RequireAsync(name);
        return (await variables.ListAsync(project.Id)).Select(ToDto).ToList();
    }

    public async Task<VariableDto> SetAsync(Actor actor, string name, string variable, SetVariableRequest? request)
    {
        var value = CheckValue(variable, request);
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
