using System.Net;
using Slipway.Contracts.Api;
using Slipway.Core.Access;
using Slipway.Testing;
using static Slipway.Server.Tests.Access.AccessTestKit;

namespace Slipway.Server.Tests.Access;

/// <summary>
/// Nobody bypasses a segregation-of-duties rule silently: an override needs policy.override and a reason,
/// and leaves a flagged audit entry; without either the rule's refusal stands and is audited as denied.
/// </summary>
public sealed class PolicyOverrideTests
{
    private static readonly string[] ViewerActions = [.. BuiltInRoles.Find(BuiltInRoles.Viewer)!.Actions];

    [Fact]
    public async Task SelfGrant_WithPolicyOverrideAndAReason_ProceedsFlaggedInTheAuditLog()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        // Holds everything a viewer has, so granting viewer is no escalation: only the self-grant rule stands in the way.
        await CreateRoleAsync(server, "breakglass", [.. ViewerActions, Actions.GrantManage, Actions.UserRead, Actions.PolicyOverride]);
        using var oscar = Http(server, await UserWithRoleAsync(server, "oscar", "breakglass"));

        var noReason = await oscar.PostAsync("/api/v1/users/oscar/grants", Body(new GrantRequest(BuiltInRoles.Viewer, null, null)));
        var shortReason = await oscar.PostAsync("/api/v1/users/oscar/grants", Body(new GrantRequest(BuiltInRoles.Viewer, null, null, "because")));
        var withReason = await oscar.PostAsync("/api/v1/users/oscar/grants",
            Body(new GrantRequest(BuiltInRoles.Viewer, null, null, "incident INC-7: only on-call engineer awake")));

        Assert.Equal(HttpStatusCode.Forbidden, noReason.StatusCode);
        Assert.Contains("refused by rule 'no-self-grant'", (await ReadAsync<ErrorDto>(noReason)).Error);
        Assert.Equal(HttpStatusCode.Forbidden, shortReason.StatusCode);
        Assert.Contains("needs a reason of at least 10 characters", (await ReadAsync<ErrorDto>(shortReason)).Error);
        var user = await ReadAsync<UserDto>(await Expect(withReason, HttpStatusCode.OK));
        Assert.Contains(user.Grants, g => g.Role == BuiltInRoles.Viewer && g.GrantedBy == "oscar");

        var log = await AuditAsync(server, "action=policy.override");
        var flagged = Assert.Single(log, e => e.Outcome == "succeeded");
        Assert.Equal("oscar", flagged.Actor);
        Assert.Equal("user:oscar", flagged.Target);
        Assert.StartsWith(PolicyGate.OverrideFlag + ": rule 'no-self-grant' overridden by oscar: incident INC-7", flagged.Detail);
        // Without a reason the grant itself is refused; with a short one the override asked for is.
        Assert.Contains(await AuditAsync(server, "action=grant.manage&outcome=denied"), e => e.Actor == "oscar" && e.Detail!.Contains("no-self-grant"));
        Assert.Single(log, e => e.Outcome == "denied" && e.Detail!.Contains("needs a reason of at least 10 characters"));
    }

    [Fact]
    public async Task SelfGrant_WithAReasonButWithoutPolicyOverride_IsRefused()
    {
        await using var server = await SlipwayTestServer.StartAsync(o => o.EmbeddedAgent = false);
        await CreateRoleAsync(server, "granter", [.. ViewerActions, Actions.GrantManage, Actions.UserRead]);
        using var gina = Http(server, await UserWithRoleAsync(server, "gina", "granter"));

        var response = await gina.PostAsync("/api/v1/users/gina/grants",
            Body(new GrantRequest(BuiltInRoles.Viewer, null, null, "I really need this for the release")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("gina may not override policies", (await ReadAsync<ErrorDto>(response)).Error);
        Assert.DoesNotContain(await AuditAsync(server, "action=policy.override"), e => e.Outcome == "succeeded");
    }
}
