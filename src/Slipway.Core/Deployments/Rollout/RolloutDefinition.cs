namespace Slipway.Core.Deployments.Rollout;

/// <summary>
/// The rolling part of a release's <c>deploy:</c> section: which targets (a role of the environment), how many at a
/// time (<see cref="Window"/>), how many may fail before the rollout stops (<see cref="MaxFailures"/>), and the steps
/// each target goes through. Where the targets are and how to reach them is the environment's (server-side) business;
/// the pipeline file only says what to do on each.
/// </summary>
/// <param name="PauseOnFailure"><c>on_failure: pause</c>: a failed target waits for a deployer's retry, skip or abort instead of failing the rollout.</param>
public sealed record RolloutDefinition(string TargetRole, BatchSize Window, BatchSize MaxFailures, IReadOnlyList<RolloutStep> Steps, bool PauseOnFailure = false);

/// <summary>A count (<c>2</c>) or a percentage of the targets (<c>25%</c>).</summary>
public readonly record struct BatchSize(int Value, bool IsPercent)
{
    public static readonly BatchSize One = new(1, false);
    public static readonly BatchSize Zero = new(0, false);

    /// <summary>
    /// The count for <paramref name="total"/> targets. A percentage rounds down, as Ansible's <c>serial</c> does;
    /// a window is at least one target (<paramref name="atLeastOne"/>), a failure budget may be zero.
    /// </summary>
    public int Resolve(int total, bool atLeastOne) =>
        Math.Max(atLeastOne ? 1 : 0, Math.Min(total, IsPercent ? total * Value / 100 : Value));

    public override string ToString() => IsPercent ? $"{Value}%" : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses <c>3</c> or <c>25%</c> (1-100 %); null when it is neither.</summary>
    public static BatchSize? Parse(string text)
    {
        var t = text.Trim();
        var percent = t.EndsWith('%');
        if (percent) t = t[..^1];
        if (!int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)) return null;
        if (percent && value is < 1 or > 100) return null;
        return new BatchSize(value, percent);
    }
}

/// <summary>One step a target goes through, in file order. <see cref="Line"/> is where the file defines it (for messages).</summary>
public abstract record RolloutStep(int Line)
{
    /// <summary>What the deployment page and the log call this step.</summary>
    public abstract string Describe();
}

/// <summary><c>upload: { from, to }</c>: a file of the release's artifacts (relative path) streamed to the target; a <c>to</c> ending in '/' is a directory.</summary>
public sealed record UploadStep(int Line, string From, string To) : RolloutStep(Line)
{
    public override string Describe() => $"upload {From} to {To}";
}

/// <summary><c>ssh: SCRIPT</c>: a shell script run on the target with the <c>SLIPWAY_*</c> values in its environment.</summary>
public sealed record SshStep(int Line, string Script) : RolloutStep(Line)
{
    public override string Describe() => "ssh: " + FirstLine(Script);

    private static string FirstLine(string s)
    {
        var line = s.Split('\n')[0].Trim();
        return line.Length > 60 ? line[..57] + "..." : line;
    }
}

/// <summary>
/// <c>health: { http, expect?, within? }</c>: asked from the deploy agent until the answer has the expected status or
/// <see cref="Within"/> has passed. The URL may use <c>$SLIPWAY_TARGET_HOST</c> and the other <c>SLIPWAY_*</c> values.
/// </summary>
public sealed record HealthStep(int Line, string Url, int ExpectStatus, TimeSpan Within) : RolloutStep(Line)
{
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromSeconds(30);
    public override string Describe() => $"health {Url} expects {ExpectStatus} within {Pipelines.Durations.Format(Within)}";
}

/// <summary>
/// <c>ansible: { playbook }</c>: a playbook of the release's source, run once per batch on the deploy agent against an
/// inventory Slipway writes from the environment's targets, limited to the batch's targets that reached this step.
/// The batch's targets wait for each other here; each target's result is read from Ansible's per-host results.
/// </summary>
public sealed record AnsibleStep(int Line, string Playbook) : RolloutStep(Line)
{
    public override string Describe() => "ansible " + Playbook;
}
