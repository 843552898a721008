namespace Slipway.Bench.Scale;

/// <summary>
/// Stops what the bench started (server nodes, PostgreSQL), newest first, once: at the end, on an exception, and on
/// Ctrl-C or SIGTERM (the runtime's ProcessExit), so a failed or interrupted run leaves no process behind. Each
/// action stops one process of ours by its PID; nothing is stopped by name.
/// </summary>
public sealed class Teardown : IAsyncDisposable
{
    private readonly List<Func<Task>> _actions = [];
    private int _done;

    public Teardown()
    {
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; Run(); Environment.Exit(130); };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run();
    }

    public void Add(Func<Task> action)
    {
        lock (_actions) _actions.Add(action);
    }

    public ValueTask DisposeAsync()
    {
        Run();
        return ValueTask.CompletedTask;
    }

    private void Run()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        List<Func<Task>> actions;
        lock (_actions) actions = [.. _actions];
        for (var i = actions.Count - 1; i >= 0; i--)
        {
            try { actions[i]().GetAwaiter().GetResult(); }
            catch (Exception e) { Console.WriteLine($"! teardown: {e.Message}"); }
        }
    }
}
