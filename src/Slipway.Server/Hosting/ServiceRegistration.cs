using Microsoft.Extensions.DependencyInjection;

namespace Slipway.Server.Hosting;

public static class ServiceRegistration
{
    public static IServiceCollection AddSlipwayStorage(this IServiceCollection services, SqlDatabase database) => services
        .AddSingleton(database)
        .AddSingleton<ProjectStore>()
        .AddSingleton<RunStore>()
        .AddSingleton<JobLeaseStore>()
        .AddSingleton<AgentStore>()
        .AddSingleton<UserStore>()
        .AddSingleton<CredentialStore>()
        .AddSingleton<GrantStore>()
        .AddSingleton<AuditStore>()
        .AddSingleton<ArtifactStore>()
        .AddSingleton<VariableStore>()
        .AddSingleton<WorkItemStore>()
        .AddSingleton<ReleaseStore>()
        .AddSingleton<ReleaseSettingsStore>()
        .AddSingleton<ChangeRequestStore>()
        .AddSingleton<EnvironmentStore>()
        .AddSingleton<TargetStore>()
        .AddSingleton<NodeTaskStore>()
        .AddSingleton<DeploymentStore>()
        .AddSingleton<LogStore>()
        .AddSingleton<ArtifactFiles>();

    public static IServiceCollection AddSlipwayAccess(this IServiceCollection services) => services
        .AddSingleton<AuditLog>()
        .AddSingleton<HeartbeatDenials>()
        .AddSingleton<Authenticator>()
        .AddSingleton<InitialAdminTokenFile>()
        .AddSingleton<SignInThrottle>()
        .AddSingleton<SignInService>();

    public static IServiceCollection AddSlipwayScheduling(this IServiceCollection services) => services
        .AddSingleton(TimeProvider.System)
        .AddSingleton<WorkSignal>()
        .AddSingleton<JobEvents>()
        .AddSingleton<SlipwayMetrics>()
        .AddSingleton<MirrorDirectory>()
        .AddSingleton<KeyPatterns>()
        .AddSingleton<RunFactory>()
        .AddSingleton<ReleaseService>()
        .AddSingleton<ProjectService>()
        .AddSingleton<ChangeDetector>()
        .AddSingleton<GitCredentials>()
        .AddSingleton<ChangeRequestLinker>()
        .AddSingleton<ChangeRequestService>()
        .AddSingleton<DeploymentService>()
        .AddSingleton<DeploymentCommands>()
        .AddSingleton<DeploymentViews>()
        .AddSingleton<EnvironmentService>()
        .AddSingleton<TargetService>()
        .AddSingleton<IHostKeyScanner, SshHostKeys>()
        .AddSingleton<DeploymentJobs>()
        .AddSingleton<ChangeRequestCommands>()
        .AddSingleton<RunService>()
        .AddSingleton<WorkItemService>()
        .AddSingleton<UserService>()
        .AddSingleton<RoleService>()
        .AddSingleton<AccountService>()
        .AddSingleton<AgentService>()
        .AddSingleton<ReleaseViews>()
        .AddSingleton<WorkItemStory>()
        .AddSingleton<SecretVault>()
        .AddSingleton<JobDispatcher>()
        .AddSingleton<PoolPresence>()
        .AddHostedService(sp => sp.GetRequiredService<HeartbeatDenials>())
        .AddHostedService<GitPoller>()
        .AddHostedService<LeaseSweeper>()
        .AddHostedService<ReleaseCreator>()
        .AddHostedService<AutoMerger>()
        .AddSingleton<DeploymentConductor>()
        .AddHostedService(sp => sp.GetRequiredService<DeploymentConductor>());
}
