using Slipway.Core.Environments;

namespace Slipway.Server.Releases;

/// <summary>One deployment of a release, as the release page lists it.</summary>
public sealed record ReleaseDeployment(long Number, string Kind, string State);

/// <summary>
/// Where a release stands on one environment of its project: current there, there before (and replaced since), or never;
/// its deployments there; whether the lifecycle would take a deploy or a promotion of it now. Who may use those is the
/// page's question (<see cref="Web.PageFrame.MayDeploy"/>); the deployment service decides again when asked.
/// </summary>
/// <param name="Where"><see cref="ReleasePlaces.Current"/>, <see cref="ReleasePlaces.Previously"/> or <see cref="ReleasePlaces.Never"/>.</param>
/// <param name="CurrentThere">The environment's current release (this one or another), null when nothing succeeded there.</param>
/// <param name="Deployable">The lifecycle lets this release be deployed here and it is neither current nor on its way here.</param>
/// <param name="PromoteFrom">The environment a promotion to here would take this release from (it is current there), else null.</param>
/// <param name="FrozenBy">The freeze window in force, if any.</param>
public sealed record ReleasePlace(EnvironmentSettings Environment, string Where, string? CurrentThere, IReadOnlyList<ReleaseDeployment> Deployments,
    bool Deployable, string? PromoteFrom, string? FrozenBy);

/// <summary>Where a release is deployed, per environment in lifecycle order (the release page). Reads only.</summary>
public static class ReleasePlaces
{
    public const string Current = "current";
    public const string Previously = "previously";
    public const string Never = "never";

    private static readonly string[] InProgress = ["awaiting_approval", "queued", "running"];

    public static async Task<IReadOnlyList<ReleasePlace>> ForAsync(string project, string version, ProjectStore projects,
        EnvironmentStore environments, DeploymentStore deployments, TimeProvider clock)
    {
        var p = await projects.RequireAsync(project);
        var rows = await environments.ListAsync(p.Id);
        var settings = Lifecycle.Ordered(rows.Select(e => e.Settings));
        var current = (await deployments.CurrentAsync(p.Id)).ToDictionary(d => d.Environment, d => d.Version, StringComparer.Ordinal);
        var mine = (await deployments.ListAsync(p.Id, limit: 1000)).Where(d => d.Version == version).ToList();
        var succeededOn = mine.Where(d => d.State == "succeeded").Select(d => d.Environment).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        var places = new List<ReleasePlace>();
        foreach (var env in settings)
        {
            var here = mine.Where(d => d.Environment == env.Name).ToList(); // newest first
            var currentThere = current.GetValueOrDefault(env.Name);
            var isCurrent = currentThere == version;
            var where = isCurrent ? Current : succeededOn.Contains(env.Name) ? Previously : Never;
            var onItsWay = here.Any(d => InProgress.Contains(d.State));
            var deployable = !isCurrent && !onItsWay && Lifecycle.CheckOrder(settings, env.Name, version, succeededOn) is null;
            var source = Lifecycle.PromotionSource(settings, env.Name, current);
            var promoteFrom = !isCurrent && !onItsWay && source is not null && current[source.Name] == version ? source.Name : null;
            var envId = rows.First(r => r.Name == env.Name).Id;
            var freeze = Freezes.InForce((await environments.FreezesAsync(envId)).Select(f => f.Window), now);
            places.Add(new ReleasePlace(env, where, currentThere, here.Select(d => new ReleaseDeployment(d.Number, d.Kind, d.State)).ToList(),
                deployable, promoteFrom, freeze?.Window.Name));
        }
        return places;
    }
}
