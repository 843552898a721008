using YamlDotNet.Core;

namespace Slipway.Core.Pipelines.Yaml;

/// <summary>Collects lint errors for one file. Not thread-safe: one instance per parse.</summary>
internal sealed class LintSink(string file)
{
    private readonly List<LintError> _errors = [];

    public string File { get; } = file;

    public int Count => _errors.Count;

    public void Add(int line, int column, string path, string message) =>
        _errors.Add(new LintError(File, Math.Max(1, line), Math.Max(1, column), path, message));

    public void Add(Mark at, string path, string message) => Add((int)at.Line, (int)at.Column, path, message);

    public void Add(YamlNode at, string path, string message) => Add(at.Line, at.Column, path, message);

    /// <summary>Sorted by position; the sort is stable so errors at one spot keep their order.</summary>
    public IReadOnlyList<LintError> Sorted() => _errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
}
