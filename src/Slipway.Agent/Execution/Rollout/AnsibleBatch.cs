using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Where the targets of one batch meet at each <c>ansible</c> step. Targets run their steps in parallel, but a playbook
/// runs once for the batch (Ansible's own fan-out, <c>--limit</c> to the batch): so each target that reaches the step
/// waits until every other target of the batch has either reached it too or dropped out (failed earlier, or was never
/// reachable); then the playbook runs for those that arrived, and each learns its own result.
/// </summary>
internal sealed class AnsibleBatch
{
    /// <summary>Runs the playbook of step <c>index</c> for the targets that arrived; per target name, null (succeeded) or why it failed.</summary>
    public delegate Task<IReadOnlyDictionary<string, string?>> Runner(int index, IReadOnlyList<ArrivedTarget> targets);

    /// <summary>A target at the meeting point, with the host key its SSH connection verified (for Ansible's known_hosts).</summary>
    public sealed record ArrivedTarget(RolloutTargetSpec Target, string HostKey);

    private sealed class Meeting(IReadOnlyList<string> members)
    {
        public readonly IReadOnlyList<string> Order = members;
        public readonly HashSet<string> Pending = new(members, StringComparer.Ordinal);
        public readonly List<ArrivedTarget> Arrived = [];
        public readonly TaskCompletionSource<IReadOnlyDictionary<string, string?>> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly object _gate = new();
    private readonly Dictionary<int, Meeting> _meetings;
    private readonly Runner _run;

    public AnsibleBatch(IEnumerable<string> members, IEnumerable<int> ansibleSteps, Runner run)
    {
        var names = members.ToList();
        _meetings = ansibleSteps.ToDictionary(i => i, _ => new Meeting(names));
        _run = run;
    }

    /// <summary>Waits for the batch at step <paramref name="index"/>, then for the playbook; null when it succeeded on this target.</summary>
    public async Task<string?> ArriveAsync(int index, RolloutTargetSpec target, string hostKey)
    {
        var meeting = _meetings[index];
        bool last;
        lock (_gate)
        {
            meeting.Pending.Remove(target.Name);
            meeting.Arrived.Add(new ArrivedTarget(target, hostKey));
            last = meeting.Pending.Count == 0;
        }
        if (last) Start(index, meeting);
        var results = await meeting.Done.Task;
        return results.TryGetValue(target.Name, out var result) ? result : "ansible reported no result for this target";
    }

    /// <summary>The target takes part in no further ansible step of this batch (it failed, or finished all its steps).</summary>
    public void Leave(string name)
    {
        foreach (var (index, meeting) in _meetings)
        {
            bool start;
            lock (_gate) start = meeting.Pending.Remove(name) && meeting.Pending.Count == 0 && meeting.Arrived.Count > 0;
            if (start) Start(index, meeting);
        }
    }

    private void Start(int index, Meeting meeting) => _ = Task.Run(async () =>
    {
        List<ArrivedTarget> arrived;
        // In the plan's order, whatever order they arrived in: the log and --limit read the same on every run.
        lock (_gate) arrived = [.. meeting.Arrived.OrderBy(a => IndexOf(meeting.Order, a.Target.Name))];
        try
        {
            meeting.Done.SetResult(await _run(index, arrived));
        }
        catch (Exception e)
        {
            var why = e is OperationCanceledException
                ? "interrupted while the playbook ran (the deployment's timeout, or the agent stopping)"
                : "the playbook could not be run: " + e.Message;
            meeting.Done.SetResult(arrived.ToDictionary(a => a.Target.Name, _ => (string?)why, StringComparer.Ordinal));
        }
    });

    private static int IndexOf(IReadOnlyList<string> order, string name)
    {
        for (var i = 0; i < order.Count; i++) if (order[i] == name) return i;
        return int.MaxValue;
    }
}
