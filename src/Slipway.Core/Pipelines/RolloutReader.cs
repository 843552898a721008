using Slipway.Core.Deployments.Rollout;
using Slipway.Core.Pipelines.Yaml;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Reads the rolling part of <c>deploy:</c> (<c>targets</c>, <c>rolling</c>, <c>steps</c>), reporting every error with its
/// line and column. Only what a file can know is checked here; whether the role matches targets is the planner's
/// question when a deployment starts (the targets are the environment's, on the server).
/// </summary>
internal sealed class RolloutReader(LintSink sink)
{
    public const int MaxSteps = 50;

    public RolloutDefinition? Read(MappingReader deploy)
    {
        var ok = true;
        var role = deploy.String("targets", required: true);
        if (role is not null && TargetRules.CheckName(role, "role") is { } roleError) { sink.Add(deploy.Get("targets")!, deploy.PathOf("targets"), roleError); ok = false; }
        var (window, maxFailures) = Rolling(deploy, ref ok);
        var list = deploy.List("steps", "steps", required: true);
        if (list is { Items.Count: 0 }) { sink.Add(list, deploy.PathOf("steps"), "'steps' is empty; a rolling deployment needs at least one step"); ok = false; }
        if (list is { Items.Count: > MaxSteps }) { sink.Add(list, deploy.PathOf("steps"), $"at most {MaxSteps} steps"); ok = false; }
        var steps = new List<RolloutStep>();
        for (var i = 0; i < (list?.Items.Count ?? 0); i++)
        {
            var step = Step(list!.Items[i], PathText.Index(deploy.PathOf("steps"), i));
            if (step is null) ok = false; else steps.Add(step);
        }
        var onFailure = deploy.String("on_failure", required: false) ?? "stop";
        if (onFailure is not ("stop" or "pause"))
        {
            sink.Add(deploy.Get("on_failure")!, deploy.PathOf("on_failure"),
                $"'on_failure' is stop (a failed target fails the rollout, within max_failures) or pause (it waits for a deployer's retry, skip or abort), not {LintText.Quote(onFailure)}");
            ok = false;
        }
        return ok && role is not null && list is not null ? new RolloutDefinition(role, window, maxFailures, steps, onFailure == "pause") : null;
    }

    private (BatchSize Window, BatchSize MaxFailures) Rolling(MappingReader deploy, ref bool ok)
    {
        var node = deploy.Get("rolling");
        if (node is null) return (BatchSize.One, BatchSize.Zero);
        var rolling = MappingReader.Open(node, deploy.PathOf("rolling"), "'rolling'", PipelineSchema.RollingKeys, sink);
        if (rolling is null) { ok = false; return (BatchSize.One, BatchSize.Zero); }
        var window = Size(rolling, "window", BatchSize.One, min: 1, ref ok);
        var maxFailures = Size(rolling, "max_failures", BatchSize.Zero, min: 0, ref ok);
        return (window, maxFailures);
    }

    private BatchSize Size(MappingReader owner, string key, BatchSize fallback, int min, ref bool ok)
    {
        var node = owner.Get(key);
        if (node is null) return fallback;
        if (node is YamlScalar { IsNull: false } s && BatchSize.Parse(s.Value) is { } size && (size.IsPercent || size.Value >= min) && size.Value <= 10_000)
            return size;
        sink.Add(node, owner.PathOf(key), $"'{key}' is a count ({min} or more) or a percentage such as 25%, not {node.Describe()}");
        ok = false;
        return fallback;
    }

    private RolloutStep? Step(YamlNode node, string path)
    {
        if (node is not YamlMapping { Entries.Count: 1 } mapping)
        {
            sink.Add(node, path, $"each step is a mapping with one of {string.Join(", ", PipelineSchema.StepKinds.Select(k => $"'{k}'"))}, not {node.Describe()}" +
                                 (node is YamlMapping m ? $" with {m.Entries.Count} keys" : ""));
            return null;
        }
        var entry = mapping.Entries[0];
        var kind = entry.Key.Value;
        var at = PathText.Key(path, kind);
        switch (kind)
        {
            case "ssh":
                if (entry.Value is YamlScalar { IsNull: false } script && !string.IsNullOrWhiteSpace(script.Value))
                    return new SshStep(entry.Key.Line, script.Value);
                sink.Add(entry.Value, at, $"'ssh' is the script to run on the target, not {entry.Value.Describe()}");
                return null;
            case "upload": return Upload(entry.Value, at, entry.Key.Line);
            case "health": return Health(entry.Value, at, entry.Key.Line);
            case "ansible": return Ansible(entry.Value, at, entry.Key.Line);
            default:
                var suggestion = KeySuggestions.Closest(kind, PipelineSchema.StepKinds);
                sink.Add(entry.Key, at, $"unknown step kind {LintText.Quote(kind)}; " +
                                        (suggestion is not null ? $"did you mean '{suggestion}'?" : $"expected one of: {string.Join(", ", PipelineSchema.StepKinds)}"));
                return null;
        }
    }

    private UploadStep? Upload(YamlNode node, string path, int line)
    {
        var upload = MappingReader.Open(node, path, "'upload'", PipelineSchema.UploadKeys, sink);
        if (upload is null) return null;
        var from = upload.String("from", required: true);
        var to = upload.String("to", required: true);
        if (from is not null && !Glob.TryValidateRelativePath(from, out var fromError)) { sink.Add(upload.Get("from")!, upload.PathOf("from"), $"invalid 'from' path {LintText.Quote(from)}: {fromError}"); from = null; }
        if (from is not null && from.IndexOfAny(['*', '?', '[']) >= 0) { sink.Add(upload.Get("from")!, upload.PathOf("from"), "'from' names one file of the release, not a glob"); from = null; }
        if (to is not null && (!to.StartsWith('/') || to.Any(char.IsControl)))
        { sink.Add(upload.Get("to")!, upload.PathOf("to"), $"'to' must be an absolute path on the target (a directory ends with '/'), not {LintText.Quote(to)}"); to = null; }
        if (to is not null && RolloutVariables.UnknownReferences(to).FirstOrDefault() is { } unknownTo)
        { sink.Add(upload.Get("to")!, upload.PathOf("to"), $"'to' refers to ${unknownTo}, which Slipway does not set; use {string.Join(", ", RolloutVariables.Names.Select(n => "$" + n))}"); to = null; }
        return from is null || to is null ? null : new UploadStep(line, from, to);
    }

    private AnsibleStep? Ansible(YamlNode node, string path, int line)
    {
        var ansible = MappingReader.Open(node, path, "'ansible'", PipelineSchema.AnsibleKeys, sink);
        if (ansible is null) return null;
        var playbook = ansible.String("playbook", required: true);
        if (playbook is not null && !Glob.TryValidateRelativePath(playbook, out var error))
        { sink.Add(ansible.Get("playbook")!, ansible.PathOf("playbook"), $"invalid 'playbook' path {LintText.Quote(playbook)}: {error}"); playbook = null; }
        if (playbook is not null && playbook.IndexOfAny(['*', '?', '[']) >= 0)
        { sink.Add(ansible.Get("playbook")!, ansible.PathOf("playbook"), "'playbook' names one file of the release's source, not a glob"); playbook = null; }
        if (playbook is not null && !(playbook.EndsWith(".yml", StringComparison.Ordinal) || playbook.EndsWith(".yaml", StringComparison.Ordinal)))
        { sink.Add(ansible.Get("playbook")!, ansible.PathOf("playbook"), $"'playbook' is a YAML file of the release's source (.yml or .yaml), not {LintText.Quote(playbook)}"); playbook = null; }
        return playbook is null ? null : new AnsibleStep(line, playbook);
    }

    private HealthStep? Health(YamlNode node, string path, int line)
    {
        var health = MappingReader.Open(node, path, "'health'", PipelineSchema.HealthKeys, sink);
        if (health is null) return null;
        var url = health.String("http", required: true);
        if (url is not null)
        {
            // Checked with placeholders filled by a sample value: the real host is only known per target.
            var sample = url;
            foreach (var name in RolloutVariables.Names) sample = sample.Replace("${" + name + "}", "x").Replace("$" + name, "x");
            if (RolloutVariables.UnknownReferences(url).FirstOrDefault() is { } unknown)
            { sink.Add(health.Get("http")!, health.PathOf("http"), $"'http' refers to ${unknown}, which Slipway does not set; use {string.Join(", ", RolloutVariables.Names.Select(n => "$" + n))}"); url = null; }
            else if (!Uri.TryCreate(sample, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            { sink.Add(health.Get("http")!, health.PathOf("http"), $"'http' must be an http:// or https:// URL, not {LintText.Quote(url)}"); url = null; }
        }
        var expect = health.Integer("expect", 100, 599) ?? 200;
        var within = HealthStep.DefaultWithin;
        if (health.Get("within") is { } w)
        {
            if (w is YamlScalar { IsNull: false } ws && Durations.TryParsePositive(ws.Value, TimeSpan.FromMinutes(30), out var value, out var error)) within = value;
            else { sink.Add(w, health.PathOf("within"), w is YamlScalar { IsNull: false } ? $"'within': {DurationError(w)}" : $"'within' must be a duration such as 30s, not {w.Describe()}"); url = null; }
        }
        return url is null ? null : new HealthStep(line, url, expect, within);
    }

    private static string DurationError(YamlNode node)
    {
        Durations.TryParsePositive(((YamlScalar)node).Value, TimeSpan.FromMinutes(30), out _, out var error);
        return error ?? "invalid duration";
    }
}
