namespace Slipway.Testing;

/// <summary>Polls until something shows up: the one bounded wait of the tests (100 ms between probes).</summary>
public static class Eventually
{
    /// <summary>
    /// The first non-null answer of <paramref name="probe"/> within <paramref name="timeout"/>; a connection refused
    /// while a server (re)starts counts as "not yet". Throws <see cref="TimeoutException"/> naming <paramref name="what"/>.
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try { if (await probe() is { } value) return value; } catch (HttpRequestException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await Task.Delay(100);
        }
    }
}
