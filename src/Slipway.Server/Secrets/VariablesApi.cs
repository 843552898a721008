using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Core.Audit;
using Slipway.Core.Secrets;

namespace Slipway.Server.Secrets;

/// <summary>
/// /api/v1/projects/{name}/variables: list, set, delete a project's variables, a thin adapter over
/// <see cref="ProjectVariableService"/>. A secret's value goes in once (encrypted before it is stored) and never comes
/// out of this API; only jobs that list it receive it.
/// A protected variable or secret reaches only runs of protected branches and deployments (new secrets are
/// protected unless told otherwise). Nothing here logs a value.
/// </summary>
public static class VariablesApi
{
    public const int MaxValueBytes = 64 * 1024;

    public static void MapVariablesApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/projects/{name}/variables", (string name, ProjectVariableService service) => service.ListAsync(name))
            .RequireAction(Actions.VariableRead);
        api.MapPut("/projects/{name}/variables/{variable}", (string name, string variable, SetVariableRequest? request, HttpContext context,
            ProjectVariableService service) => service.SetAsync(Actor.Of(context), name, variable, request)).RequireAction(Actions.VariableWrite);
        api.MapDelete("/projects/{name}/variables/{variable}", async (string name, string variable, HttpContext context, ProjectVariableService service) =>
        {
            await service.DeleteAsync(Actor.Of(context), name, variable);
            return Results.NoContent();
        }).RequireAction(Actions.VariableWrite);
    }

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
}
