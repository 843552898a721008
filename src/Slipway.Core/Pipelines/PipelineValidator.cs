using System.Text.RegularExpressions;
using Slipway.Core.Pipelines.Yaml;
using Slipway.Core.Secrets;

namespace Slipway.Core.Pipelines;

/// <summary>
/// Builds a <see cref="PipelineDefinition"/> from the YAML tree, reporting every lint error it
/// finds (it never stops at the first). The result is only used when no error was reported.
/// </summary>
internal sealed partial class PipelineValidator
{
    private readonly LintSink _sink;
    private readonly Dictionary<string, YamlNode> _stageNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YamlNode> _jobNames = new(StringComparer.Ordinal);

    private PipelineValidator(LintSink sink) => _sink = sink;

    public static PipelineDefinition? Validate(YamlNode root, LintSink sink) => new PipelineValidator(sink).Pipeline(root);

    private PipelineDefinition? Pipeline(YamlNode root)
    {
        if (root is not YamlMapping)
        {
            _sink.Add(root, "", $"the pipeline file must be a mapping with a 'stages' list, not {root.Describe()}");
            return null;
        }
        var top = MappingReader.Open(root, "", "the pipeline", PipelineSchema.TopLevelKeys, _sink)!;
        Version(top);
        var env = EnvReader.Read(top, _sink);
        var stages = new List<StageDefinition>();
        var stageList = top.List("stages", "stages", required: true);
        if (stageList is not null && stageList.Items.Count == 0)
            _sink.Add(stageList, top.PathOf("stages"), "'stages' is empty; the pipeline needs at least one stage");
        for (var i = 0; i < (stageList?.Items.Count ?? 0); i++)
        {
            var stage = Stage(stageList!.Items[i], PathText.Index("stages", i));
            if (stage is not null) stages.Add(stage);
        }
        var release = Release(top);
        var deploy = Deploy(top);
        return new PipelineDefinition(env, stages, release, deploy);
    }

    private DeployDefinition? Deploy(MappingReader top)
    {
        var node = top.Get("deploy");
        if (node is null) return null;
        var deploy = MappingReader.Open(node, top.PathOf("deploy"), "'deploy'", PipelineSchema.DeployKeys, _sink);
        if (deploy is null) return null;
        // Every error of the section is reported at once: a broken part marks the section invalid and the rest is still read.
        var broken = false;
        var rolling = deploy.Get("targets") is not null || deploy.Get("steps") is not null || deploy.Get("rolling") is not null;
        if (rolling && deploy.Get("run") is { } both)
        {
            _sink.Add(both, deploy.PathOf("run"), "'deploy' has both 'run' and 'targets'/'steps'; use 'run' for one script on the deploy agent or 'targets' with 'steps' for a rolling deployment, not both");
            broken = true;
        }
        var rollout = rolling ? new RolloutReader(_sink).Read(deploy) : null;
        if (!rolling && deploy.Get("on_failure") is { } onFailure)
            _sink.Add(onFailure, deploy.PathOf("on_failure"), "'on_failure' applies to a rolling deployment ('targets' with 'steps'), not to a 'run' script");
        var run = rolling ? null : deploy.String("run", required: true);
        if (run is { Length: 0 }) { _sink.Add(deploy.Get("run")!, deploy.PathOf("run"), "'run' is empty"); run = null; }
        var verify = deploy.String("verify", required: false);
        var metrics = MetricsFile(deploy);
        if (metrics is not null && string.IsNullOrWhiteSpace(verify))
            _sink.Add(deploy.Get("metrics")!, deploy.PathOf("metrics"), "'metrics' is the file the 'verify' step writes; add a 'verify' script that produces it");
        var rollback = deploy.String("rollback", required: false) ?? "manual";
        if (rollback is not ("auto" or "manual"))
        {
            _sink.Add(deploy.Get("rollback")!, deploy.PathOf("rollback"), $"'rollback' is auto or manual, not {LintText.Quote(rollback)}");
            broken = true;
        }
        var timeout = Timeout(deploy);
        var checks = new ReleaseChecksReader(_sink).Read(deploy);
        return broken || (run is null && rollout is null) ? null
            : new DeployDefinition(run, string.IsNullOrWhiteSpace(verify) ? null : verify, rollback == "auto", timeout, rollout, metrics, checks.Count > 0 ? checks : null);
    }

    private ReleaseDefinition? Release(MappingReader top)
    {
        var node = top.Get("release");
        if (node is null) return null;
        var release = MappingReader.Open(node, top.PathOf("release"), "'release'", PipelineSchema.ReleaseKeys, _sink);
        if (release is null) return null;
        // Optional and informational since issue 11: which branches release is the project's setting on the server (a
        // branch's file cannot make that branch release). Still checked, so a file stays valid where it was and vice versa.
        var branch = release.String("branch", required: false);
        var branchValid = true;
        if (branch is not null && (branch.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '*' or '?' or '[' or '~' or '^' or ':' or '\\')
                                   || branch.StartsWith('-') || branch.Contains("..", StringComparison.Ordinal)))
        {
            _sink.Add(release.Get("branch")!, release.PathOf("branch"), $"invalid release branch {LintText.Quote(branch)}; name one branch, not a glob");
            branchValid = false;
        }
        var tag = release.String("tag", required: false);
        if (tag is not null && Releases.VersionTemplate.CheckTagPattern(tag) is { } tagError)
        {
            _sink.Add(release.Get("tag")!, release.PathOf("tag"), tagError);
            branchValid = false; // the section is invalid; its other keys are still checked, so every error shows at once
        }
        var template = release.String("version", required: true);
        if (template is not null && Releases.VersionTemplate.Check(template, tag) is { } error)
        {
            _sink.Add(release.Get("version")!, release.PathOf("version"), error);
            template = null;
        }
        if (template is not null && tag is not null && !Releases.VersionTemplate.UsesTag(template))
        {
            _sink.Add(release.Get("tag")!, release.PathOf("tag"), $"'tag' is set but the version template does not use {Releases.VersionTemplate.TagPlaceholder}");
            template = null;
        }
        return !branchValid || template is null ? null : new ReleaseDefinition(branch, template, tag);
    }

    private void Version(MappingReader top)
    {
        var node = top.Get("version");
        if (node is null) return;
        if (node is YamlScalar { IsPlain: true, Value: "1" }) return;
        _sink.Add(node, top.PathOf("version"), $"unsupported version {node.Describe()}; only version {PipelineSchema.SupportedVersion} is supported");
    }

    private StageDefinition? Stage(YamlNode node, string path)
    {
        var stage = MappingReader.Open(node, path, "a stage", PipelineSchema.StageKeys, _sink);
        if (stage is null) return null;
        var name = Name(stage, "stage", _stageNames, "");
        var when = When(stage);
        var env = EnvReader.Read(stage, _sink);
        var jobs = new List<JobDefinition>();
        var jobList = stage.List("jobs", "jobs", required: true);
        if (jobList is not null && jobList.Items.Count == 0)
            _sink.Add(jobList, stage.PathOf("jobs"), $"stage '{name ?? "?"}' has no jobs; add at least one job under 'jobs'");
        for (var i = 0; i < (jobList?.Items.Count ?? 0); i++)
        {
            var job = Job(jobList!.Items[i], PathText.Index(stage.PathOf("jobs"), i));
            if (job is not null) jobs.Add(job);
        }
        return name is null ? null : new StageDefinition(name, when, env, jobs);
    }

    private BranchFilter? When(MappingReader stage)
    {
        var node = stage.Get("when");
        if (node is null) return null;
        var when = MappingReader.Open(node, stage.PathOf("when"), "'when'", PipelineSchema.WhenKeys, _sink);
        if (when is null) return null;
        var list = when.List("branches", "branch globs", required: true);
        if (list is { Items.Count: 0 })
        {
            _sink.Add(list, when.PathOf("branches"), "'branches' is empty; list at least one branch glob or remove 'when'");
            return null;
        }
        var branches = when.StringList("branches", "branch globs",
            g => Glob.TryValidate(g, out var error) ? null : $"invalid branch glob {LintText.Quote(g)}: {error}");
        return new BranchFilter(branches);
    }

    private JobDefinition? Job(YamlNode node, string path)
    {
        var job = MappingReader.Open(node, path, "a job", PipelineSchema.JobKeys, _sink);
        if (job is null) return null;
        var name = Name(job, "job", _jobNames, "; job names must be unique across the whole file");
        var run = job.String("run", required: true);
        var env = EnvReader.Read(job, _sink);
        var secrets = job.StringList("secrets", "secret names", VariableNames.Check);
        DuplicateSecrets(job, secrets);
        var pool = job.String("pool", required: false);
        if (pool is not null && !NamePattern().IsMatch(pool))
        {
            _sink.Add(job.Get("pool")!, job.PathOf("pool"), $"invalid pool name {LintText.Quote(pool)}; {NameRule}");
            pool = null;
        }
        var labels = job.StringList("labels", "labels");
        var artifacts = job.StringList("artifacts", "path globs", PathGlobError("artifact"));
        var reports = job.StringList("reports", "path globs", PathGlobError("report"));
        var metrics = MetricsFile(job);
        var timeout = Timeout(job);
        var retry = job.Integer("retry", 0, JobDefinition.MaxRetry) ?? 0;
        if (name is null || run is null) return null;
        return new JobDefinition(name, run, env, pool ?? JobDefinition.DefaultPool, labels, artifacts, reports, timeout, retry, secrets, metrics);
    }

    /// <summary>
    /// <c>metrics: perf/summary.json</c>: one file in the workspace (no glob, no '..') the server reads when the job ends
    /// (k6, Artillery, autocannon or plain JSON; docs/gates.md).
    /// </summary>
    private string? MetricsFile(MappingReader owner)
    {
        var path = owner.String("metrics", required: false);
        if (path is null) return null;
        var node = owner.Get("metrics")!;
        if (path.Length == 0 || path.Length > 500 || path.StartsWith('/') || path.Split('/').Any(p => p is ".." or "") || path.IndexOfAny(['*', '?', '[', '{', '\\']) >= 0
            || path.Any(char.IsControl))
        {
            _sink.Add(node, owner.PathOf("metrics"), $"'metrics' is one file's path relative to the workspace, such as perf/summary.json (no glob, no '..'), not {LintText.Quote(path)}");
            return null;
        }
        return path;
    }

    private void DuplicateSecrets(MappingReader job, IReadOnlyList<string> secrets)
    {
        var duplicate = secrets.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            _sink.Add(job.Get("secrets")!, job.PathOf("secrets"), $"secret {LintText.Quote(duplicate.Key)} is listed twice");
    }

    private static Func<string, string?> PathGlobError(string what) =>
        g => Glob.TryValidateRelativePath(g, out var error) ? null : $"invalid {what} path {LintText.Quote(g)}: {error}";

    private TimeSpan Timeout(MappingReader job)
    {
        var node = job.Get("timeout");
        if (node is null) return JobDefinition.DefaultTimeout;
        if (node is not YamlScalar scalar || scalar.IsNull)
        {
            _sink.Add(node, job.PathOf("timeout"), $"'timeout' must be a duration such as 10m, not {node.Describe()}");
            return JobDefinition.DefaultTimeout;
        }
        if (Durations.TryParsePositive(scalar.Value, PipelineLimits.MaxTimeout, out var value, out var error)) return value;
        _sink.Add(node, job.PathOf("timeout"), error!);
        return JobDefinition.DefaultTimeout;
    }

    private const string NameRule = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    /// <summary>Reads and checks a stage/job name; records it to catch duplicates.</summary>
    private string? Name(MappingReader owner, string kind, Dictionary<string, YamlNode> seen, string uniqueHint)
    {
        var name = owner.String("name", required: true);
        if (name is null) return null;
        var node = owner.Get("name")!;
        if (!NamePattern().IsMatch(name))
        {
            _sink.Add(node, owner.PathOf("name"), $"invalid {kind} name {LintText.Quote(name)}; {NameRule}");
            return null;
        }
        if (seen.TryGetValue(name, out var first))
        {
            _sink.Add(node, owner.PathOf("name"), $"duplicate {kind} name {LintText.Quote(name)} (first defined at line {first.Line}){uniqueHint}");
            return name;
        }
        seen[name] = node;
        return name;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
