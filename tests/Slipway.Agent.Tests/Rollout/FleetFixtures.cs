using Slipway.Testing.Fleet;

namespace Slipway.Agent.Tests.Rollout;

/// <summary>One simulated fleet per test class (xunit class fixture); disposed, processes and all, after the class.</summary>
public abstract class FleetFixture(int hosts) : IAsyncLifetime
{
    public SimulatedFleet Fleet { get; private set; } = null!;

    public async Task InitializeAsync() => Fleet = await SimulatedFleet.StartAsync(hosts);

    public async Task DisposeAsync()
    {
        if (Fleet is not null)
            await Fleet.DisposeAsync();
    }
}

public sealed class ThreeHostFleet() : FleetFixture(3);

public sealed class TwoHostFleet() : FleetFixture(2);
