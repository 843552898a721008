using System.CommandLine;
using Slipway.Core.Pipelines;

namespace Slipway.Cli.Commands.Lint;

/// <summary><c>slipway lint [FILE]</c>: checks a pipeline file offline with the server's own rules. Exit 1 on errors.</summary>
public static class LintCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "Pipeline file (default .slipway.yml)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("lint", "Check a pipeline file") { file };
        command.SetAction(result =>
        {
            var path = result.GetValue(file) ?? PipelineParser.DefaultFileName;
            if (!File.Exists(path)) { Console.Error.WriteLine($"{path}: no such file"); return 2; }
            // A huge file is refused by its size, never loaded.
            var parsed = PipelineParser.RefuseIfTooLarge(new FileInfo(path).Length, path)
                         ?? PipelineParser.Parse(File.ReadAllText(path), path);
            foreach (var error in parsed.Errors) Console.WriteLine(error);
            if (parsed.IsValid) Console.WriteLine($"{path}: OK ({parsed.Pipeline!.Stages.Count} stages, {parsed.Pipeline.Stages.Sum(s => s.Jobs.Count)} jobs)");
            return parsed.IsValid ? 0 : 1;
        });
        return command;
    }
}
