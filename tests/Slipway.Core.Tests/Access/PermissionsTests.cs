using Slipway.Core.Access;

namespace Slipway.Core.Tests.Access;

public sealed class PermissionsTests
{
    private static readonly Role Deployer = Role.Custom("deployer", "runs things", [Actions.RunStart, Actions.RunRead, Actions.AuditRead]);

    private static Role? Find(string name) => BuiltInRoles.Find(name) ?? (name == Deployer.Name ? Deployer : null);

    private static Permissions Of(params Grant[] grants) => new(grants, Find);

    [Theory]
    // A global grant covers every project and the server.
    [InlineData(Actions.RunStart, null, true)]
    [InlineData(Actions.RunStart, "shop", true)]
    [InlineData(Actions.AgentRead, null, true)]
    // Not in the role.
    [InlineData(Actions.UserManage, null, false)]
    [InlineData(Actions.AuditRead, null, false)]
    // Agent and public actions are never a user's.
    [InlineData(Actions.AgentWork, null, false)]
    [InlineData(Actions.AgentRegister, null, false)]
    [InlineData(Actions.Public, null, false)]
    [InlineData(Actions.WebhookPush, "shop", false)]
    // Unknown actions are refused, not thrown.
    [InlineData("run.delete", null, false)]
    [InlineData("", null, false)]
    public void GlobalDeveloper(string action, string? project, bool expected) =>
        Assert.Equal(expected, Of(new Grant(BuiltInRoles.Developer)).Can(action, new Scope(project)));

    [Fact]
    public void MayKnowOf_AProjectAGrantNames_OrAnyWithAGlobalProjectRole_WhateverTheTokenScope()
    {
        Assert.True(Of(new Grant(BuiltInRoles.Viewer)).MayKnowOf("anything"));
        Assert.True(Of(new Grant(BuiltInRoles.Developer, "shop")).MayKnowOf("shop"));
        Assert.False(Of(new Grant(BuiltInRoles.Developer, "shop")).MayKnowOf("billing"));
        Assert.True(Of(new Grant(BuiltInRoles.Developer, "shop", "production")).MayKnowOf("shop"));
        Assert.True(Of(new Grant(Deployer.Name, "shop")).MayKnowOf("shop")); // a role without project.read, granted there: told it exists
        Assert.False(Of(new Grant(Deployer.Name, "shop")).MayKnowOf("billing"));
        // A token scoped without project.read narrows what the caller may do, not what the user knows exists.
        Assert.True(new Permissions([new Grant(BuiltInRoles.Developer, "shop")], Find, new HashSet<string> { Actions.RunRead }).MayKnowOf("shop"));
    }

    [Fact]
    public void OnEveryProject_NeedsAGlobalGrant_ThatTheTokenScopeKeeps()
    {
        Assert.True(Of(new Grant(BuiltInRoles.Admin)).CanOnEveryProject(Actions.EnvironmentManage));
        var projectAdmin = Of(new Grant(BuiltInRoles.Admin, "billing"));
        Assert.True(projectAdmin.Can(Actions.EnvironmentManage)); // a list endpoint's answer: filtered per project afterwards
        Assert.False(projectAdmin.CanOnEveryProject(Actions.EnvironmentManage));
        Assert.False(new Permissions([new Grant(BuiltInRoles.Admin)], Find, new HashSet<string> { Actions.RunRead }).CanOnEveryProject(Actions.EnvironmentManage));
        Assert.False(Of(new Grant(BuiltInRoles.Developer)).CanOnEveryProject(Actions.EnvironmentManage));
    }

    [Theory]
    [InlineData(Actions.RunStart, "shop", null, true)]
    [InlineData(Actions.RunStart, "shop", "prod", true)]   // a whole-project grant covers its environments
    [InlineData(Actions.RunStart, "blog", null, false)]    // another project
    [InlineData(Actions.RunStart, "Shop", null, false)]    // project names are compared exactly
    [InlineData(Actions.RunStart, null, null, true)]       // a list: filtered per project afterwards
    [InlineData(Actions.AgentRead, null, null, false)]     // server actions need a global grant
    [InlineData(Actions.PipelineLint, null, null, false)]
    [InlineData(Actions.ProjectCreate, null, null, false)]
    [InlineData(Actions.AccountSelf, null, null, true)]    // but one's own account and the UI come with any grant
    [InlineData(Actions.UiView, null, null, true)]
    public void ProjectDeveloper(string action, string? project, string? environment, bool expected) =>
        Assert.Equal(expected, Of(new Grant(BuiltInRoles.Developer, "shop")).Can(action, new Scope(project, environment)));

    [Theory]
    [InlineData("shop", "staging", true)]
    [InlineData("shop", "prod", false)]
    [InlineData("shop", null, false)]     // aimed at the whole project: an environment grant is not enough
    [InlineData("blog", "staging", false)]
    [InlineData(null, null, true)]         // a list
    public void EnvironmentGrant(string? project, string? environment, bool expected) =>
        Assert.Equal(expected, Of(new Grant(BuiltInRoles.Developer, "shop", "staging")).Can(Actions.RunStart, new Scope(project, environment)));

    [Fact]
    public void AProjectGrant_NeverGivesServerAdministration()
    {
        var permissions = Of(new Grant(BuiltInRoles.Admin, "shop"));

        Assert.True(permissions.CanOnProject(Actions.VariableWrite, "shop"));
        Assert.False(permissions.CanOnProject(Actions.VariableWrite, "blog"));
        Assert.False(permissions.Can(Actions.UserManage));
        Assert.False(permissions.Can(Actions.GrantManage));
        Assert.False(permissions.Can(Actions.AuditRead));
        Assert.DoesNotContain(Actions.UserManage, permissions.Reachable());
    }

    [Fact]
    public void GrantsAddUp()
    {
        var permissions = Of(new Grant(BuiltInRoles.Viewer), new Grant(BuiltInRoles.Developer, "shop"), new Grant(Deployer.Name));

        Assert.True(permissions.CanOnProject(Actions.RunRead, "blog"));
        Assert.True(permissions.CanOnProject(Actions.RunStart, "blog")); // the custom role is global
        Assert.True(permissions.CanOnProject(Actions.RunCancel, "shop"));
        Assert.False(permissions.CanOnProject(Actions.RunCancel, "blog"));
        Assert.True(permissions.Can(Actions.AuditRead));
    }

    [Fact]
    public void TokenScope_OnlyTakesAway()
    {
        var scope = new HashSet<string> { Actions.ProjectRead, Actions.RunRead, Actions.UserManage };
        var permissions = new Permissions([new Grant(BuiltInRoles.Developer)], Find, scope);

        Assert.True(permissions.CanOnProject(Actions.ProjectRead, "shop"));
        Assert.False(permissions.CanOnProject(Actions.RunStart, "shop"));   // held, but not in the scope
        Assert.False(permissions.Can(Actions.UserManage));                  // in the scope, but not held
        Assert.Equal([Actions.ProjectRead, Actions.RunRead], permissions.Reachable().Order());
    }

    [Fact]
    public void EmptyTokenScope_AllowsNothing() =>
        Assert.Empty(new Permissions([new Grant(BuiltInRoles.Admin)], Find, new HashSet<string>()).Reachable());

    [Fact]
    public void AGrantOfADeletedRole_GivesNothing_AndDoesNotFail()
    {
        var permissions = Of(new Grant("gone"), new Grant("gone", "shop"), new Grant(BuiltInRoles.Viewer, "shop"));

        Assert.False(permissions.Can(Actions.RunStart, Scope.ForProject("shop")));
        Assert.True(permissions.CanOnProject(Actions.RunRead, "shop"));
        Assert.Equal(3, permissions.Grants.Count);
    }

    [Fact]
    public void Admin_HoldsEveryUserAction_AndNoOther()
    {
        var permissions = Of(new Grant(BuiltInRoles.Admin));

        Assert.Equal(Actions.UserActions.Order(), permissions.Reachable().Order());
        Assert.All(Actions.Catalogue.Values.Where(a => a.Kind != ActionKind.User), a => Assert.False(permissions.Can(a.Name)));
    }

    [Fact]
    public void EveryBuiltInRole_UsesOnlyUserActionsOfTheCatalogue_AndCanManageItsOwnAccount() =>
        Assert.All(BuiltInRoles.All, role =>
        {
            Assert.Subset(Actions.UserActions.ToHashSet(), role.Actions.ToHashSet());
            Assert.Contains(Actions.AccountSelf, role.Actions);
            Assert.Contains(Actions.UiView, role.Actions);
            Assert.True(role.BuiltIn);
        });

    [Theory]
    [InlineData("ops", "ok")]
    [InlineData("release-managers", "ok")]
    [InlineData("o", "a role name is")]                  // too short
    [InlineData("Ops", "a role name is")]                // upper case
    [InlineData("1ops", "a role name is")]
    [InlineData("ops team", "a role name is")]
    [InlineData("<script>", "a role name is")]
    [InlineData("", "a role name is")]
    [InlineData("admin", "built-in")]
    [InlineData("viewer", "built-in")]
    public void CustomRoleNames(string name, string expected)
    {
        if (expected == "ok")
        {
            Assert.Equal(name, Role.Custom(name, " d ", [Actions.RunRead]).Name);
            return;
        }
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => Role.Custom(name, null, [Actions.RunRead])).Message);
    }

    [Fact]
    public void CustomRoleActions_MustBeKnownUserActions_AndAtLeastOne()
    {
        Assert.Contains("agent.work", Assert.Throws<ArgumentException>(() => Role.Custom("ops", null, [Actions.RunRead, Actions.AgentWork])).Message);
        Assert.Contains("run.delete", Assert.Throws<ArgumentException>(() => Role.Custom("ops", null, ["run.delete"])).Message);
        Assert.Contains("public", Assert.Throws<ArgumentException>(() => Role.Custom("ops", null, [Actions.Public])).Message);
        Assert.Contains("at least one", Assert.Throws<ArgumentException>(() => Role.Custom("ops", null, [])).Message);
        Assert.Contains("at least one", Assert.Throws<ArgumentException>(() => Role.Custom("ops", null, [" ", ""])).Message);

        var role = Role.Custom("ops", "  trimmed  ", [" run.read ", Actions.RunRead, Actions.RunStart]);
        Assert.Equal([Actions.RunRead, Actions.RunStart], role.Actions.Order());
        Assert.Equal("trimmed", role.Description);
        Assert.False(role.BuiltIn);
    }
}
