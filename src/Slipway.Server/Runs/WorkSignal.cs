using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Slipway.Server.Runs;

/// <summary>
/// Wakes waiting long-polls at once when something they wait for happens (a job queued in a pool, a job
/// asked to cancel, a log appended). Only an accelerator: every waiter also wakes on its own timeout and
/// re-reads the database, so a missed signal costs latency, never correctness.
/// With several server nodes on PostgreSQL a signal also goes to the other nodes (<see cref="NodeNotifications"/>,
/// LISTEN/NOTIFY): an agent long-polling node B learns at once of a job queued through node A.
/// Polls waiting for a pool's jobs stand in line (<see cref="JoinLine"/>): a signal wakes the first
/// <see cref="FirstWoken"/> of them, not all, and the dispatcher wakes more as jobs are handed out. Waking every waiting
/// poll sent a claim per waiting agent to the database for each queued job (issue 15: 100 agents, 100 claims for one job).
/// Thread-safe.
/// </summary>
public sealed class WorkSignal
{
    /// <summary>How many polls in line a signal wakes; each that gets a job wakes two more (<see cref="JobDispatcher"/>).</summary>
    public const int FirstWoken = 4;

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new();
    private readonly ConcurrentDictionary<string, WaitingLine> _lines = new();
    private Channel<string>? _outgoing;

    /// <summary>A task that completes the next time <paramref name="key"/> is signalled.</summary>
    public Task WaitAsync(string key) =>
        _waits.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes the waiters of <paramref name="key"/> on this node and, when distributed, on every other node.</summary>
    public void Signal(string key)
    {
        SignalHere(key);
        _outgoing?.Writer.TryWrite(key);
    }

    /// <summary>Wakes the waiters of <paramref name="key"/> on this node only (a signal that came from another node).</summary>
    public void SignalHere(string key)
    {
        if (_waits.TryRemove(key, out var tcs)) tcs.TrySetResult();
        if (_lines.TryGetValue(key, out var line)) line.Wake(FirstWoken);
    }

    /// <summary>Wakes every waiter on this node: after signals may have been missed (a lost database connection), all re-read.</summary>
    public void SignalAllHere()
    {
        foreach (var key in _waits.Keys) SignalHere(key);
        foreach (var line in _lines.Values) line.Wake(int.MaxValue);
    }

    /// <summary>
    /// A place at the end of <paramref name="key"/>'s line; its task completes when a signal or <see cref="WakeInLine"/>
    /// reaches it. Dispose it when done waiting: a place woken but not <see cref="PlaceInLine.Use">used</see> passes its
    /// wake-up to the next in line, so no wake-up is lost with a poll that went away.
    /// </summary>
    public PlaceInLine JoinLine(string key) => _lines.GetOrAdd(key, _ => new WaitingLine()).Join();

    /// <summary>Wakes the next <paramref name="count"/> places in <paramref name="key"/>'s line, on this node only.</summary>
    public void WakeInLine(string key, int count)
    {
        if (_lines.TryGetValue(key, out var line)) line.Wake(count);
    }

    /// <summary>Whether a poll is waiting in <paramref name="key"/>'s line on this node.</summary>
    public bool AnyInLine(string key) => _lines.TryGetValue(key, out var line) && line.Any();

    /// <summary>
    /// From now on signals are also queued for the other nodes; the returned reader is drained by the one publisher.
    /// Bounded: when the publisher falls behind the oldest are dropped (waiters re-read on their timeouts anyway).
    /// </summary>
    public ChannelReader<string> Distribute()
    {
        _outgoing ??= Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        return _outgoing.Reader;
    }

    public static string Pool(string pool) => "pool:" + pool;
    public static string Job(long jobId) => "job:" + jobId;
    public static string Log(long jobId) => "log:" + jobId;
    /// <summary>Something a deployment waits for happened (requested, approved, a job ended): the conductor looks at once.</summary>
    public const string Deployments = "deployments";
    /// <summary>An alert delivery to look at: one queued, or a sending slot freed (<see cref="Checks.AlertSender"/>).</summary>
    public const string Alerts = "alerts";
}

/// <summary>One poll's place in a <see cref="WorkSignal"/> line.</summary>
public sealed class PlaceInLine : IDisposable
{
    private readonly WaitingLine _line;
    private bool _used;
    private bool _disposed;

    internal PlaceInLine(WaitingLine line, long number) => (_line, Number) = (line, number);

    /// <summary>Its order of joining the line.</summary>
    internal long Number { get; }

    /// <summary>
    /// Set when woken: a hand-on of this wake-up reaches only places that joined before this number, the polls that were
    /// waiting when the wake-up began. A poll that joined later looked at the queue itself, so the chain always ends.
    /// </summary>
    internal long HandOnBefore { get; set; }

    internal TaskCompletionSource Woken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    internal LinkedListNode<PlaceInLine>? Node { get; set; }

    /// <summary>Completes when this place is woken.</summary>
    public Task Task => Woken.Task;

    /// <summary>The poll looked (or will look) at the database after this place was woken: the wake-up is not passed on.</summary>
    public void Use() => _used = true;

    /// <summary>This poll was woken and found nothing it may take while the pool still has a job: the next in line looks.</summary>
    public void HandOn()
    {
        if (Task.IsCompleted) _line.Wake(1, HandOnBefore);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _line.Leave(this, passOnWakeUp: !_used);
    }
}

/// <summary>The polls waiting on one key, oldest first.</summary>
internal sealed class WaitingLine
{
    private readonly LinkedList<PlaceInLine> _places = new();
    private long _joined;

    public PlaceInLine Join()
    {
        lock (_places)
        {
            var place = new PlaceInLine(this, ++_joined);
            place.Node = _places.AddLast(place);
            return place;
        }
    }

    /// <summary>Wakes up to <paramref name="count"/> places from the front; with <paramref name="joinedBefore"/>, only places that joined before it.</summary>
    public void Wake(int count, long? joinedBefore = null)
    {
        lock (_places)
        {
            var mark = joinedBefore ?? _joined + 1;
            for (; count > 0 && _places.First is { } first && first.Value.Number < mark; count--)
            {
                _places.RemoveFirst();
                first.Value.Node = null;
                first.Value.HandOnBefore = mark;
                first.Value.Woken.TrySetResult(); // continuations run asynchronously, not under this lock
            }
        }
    }

    public void Leave(PlaceInLine place, bool passOnWakeUp)
    {
        lock (_places)
        {
            if (place.Node is { } node)
            {
                _places.Remove(node);
                place.Node = null;
                return;
            }
        }
        if (passOnWakeUp && place.Task.IsCompleted) Wake(1, place.HandOnBefore);
    }

    public bool Any()
    {
        lock (_places) return _places.Count > 0;
    }
}
