using Slipway.Testing;

namespace Slipway.Server.Tests;

/// <summary>Helpers to make a real git repository holding a pipeline file and scripts.</summary>
public static class Pipelines
{
    public static GitRepository Repo(string pipeline, params (string Path, string Content)[] files)
    {
        var repo = GitRepository.Create("main");
        repo.WriteFile(".slipway.yml", pipeline);
        foreach (var (path, content) in files) repo.WriteFile(path, content, executable: path.EndsWith(".sh"));
        repo.Commit("initial");
        return repo;
    }

    public static string OneJob(string script, string extra = "") => $"""
        stages:
          - name: s
            jobs:
              - name: j
                run: |
        {Indent(script, 10)}
        {extra}
        """;

    public static string Indent(string text, int spaces) =>
        string.Join("\n", text.Replace("\r\n", "\n").Split('\n').Select(l => new string(' ', spaces) + l));
}
