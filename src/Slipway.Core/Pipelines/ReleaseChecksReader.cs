using System.Text.RegularExpressions;
using Slipway.Core.Pipelines.Yaml;

namespace Slipway.Core.Pipelines;

/// <summary>A live check a release brings: a named script the environment's live checks may run (docs/live-checks.md).</summary>
public sealed record ReleaseCheck(string Name, string Run);

/// <summary>
/// Reads <c>deploy: checks:</c>: the scripts a release offers as live checks, each <c>{name, run}</c>. The file only says
/// which checks exist and how they run; whether and how often one runs on an environment, and what its failure does, is
/// the server's (an administrator's <c>slipway check add ... --release-check NAME</c>).
/// </summary>
internal sealed partial class ReleaseChecksReader(LintSink sink)
{
    public const int MaxChecks = 20;

    public IReadOnlyList<ReleaseCheck> Read(MappingReader deploy)
    {
        var list = deploy.List("checks", "checks", required: false);
        if (list is null) return [];
        if (list.Items.Count > MaxChecks) sink.Add(list, deploy.PathOf("checks"), $"at most {MaxChecks} checks");
        var checks = new List<ReleaseCheck>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            var path = PathText.Index(deploy.PathOf("checks"), i);
            var check = MappingReader.Open(list.Items[i], path, "a check", PipelineSchema.CheckKeys, sink);
            if (check is null) continue;
            var name = check.String("name", required: true);
            var run = check.String("run", required: true);
            if (name is not null && !NamePattern().IsMatch(name))
            {
                sink.Add(check.Get("name")!, check.PathOf("name"), $"invalid check name {LintText.Quote(name)}; use 1-64 letters, digits, '.', '_' or '-'");
                continue;
            }
            if (run is { Length: 0 } || (run is not null && string.IsNullOrWhiteSpace(run))) { sink.Add(check.Get("run")!, check.PathOf("run"), "'run' is empty"); continue; }
            if (name is null || run is null) continue;
            if (checks.Any(c => c.Name == name)) { sink.Add(check.Get("name")!, check.PathOf("name"), $"duplicate check name {LintText.Quote(name)}"); continue; }
            checks.Add(new ReleaseCheck(name, run));
        }
        return checks;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
