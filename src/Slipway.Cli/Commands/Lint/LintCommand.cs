using System.CommandLine;
using Slipway.Cli.Output;
using Slipway.Core.Pipelines;

namespace Slipway.Cli.Commands.Lint;

/// <summary>
/// <c>slipway lint [FILE] [--json]</c>: checks a pipeline file offline with the server's own rules. Exit 0 when valid,
/// 1 on errors, 2 when the file is missing; the same with <c>--json</c>, which prints a <see cref="LintReport"/>.
/// </summary>
public static class LintCommand
{
    /// <summary>What <c>--json</c> prints: the file, whether it is valid, its size when valid, and each error with its place.</summary>
    public sealed record LintReport(string File, bool Valid, int? Stages, int? Jobs, IReadOnlyList<LintErrorReport> Errors);

    /// <summary>One error; <see cref="Text"/> is the line the text output prints (<c>FILE:LINE:COLUMN: path: message</c>).</summary>
    public sealed record LintErrorReport(int Line, int Column, string Path, string Message, string Text);

    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "Pipeline file (default .slipway.yml)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("lint", "Check a pipeline file") { file, CliContext.JsonOutput };
        command.SetAction(result =>
        {
            var path = result.GetValue(file) ?? PipelineParser.DefaultFileName;
            if (Directory.Exists(path)) { Console.Error.WriteLine($"{path}: is a folder; give the pipeline file (e.g. {Path.Combine(path, ".slipway.yml")})"); return 2; }
            if (!File.Exists(path)) { Console.Error.WriteLine($"{path}: no such file"); return 2; }
            // A huge file is refused by its size, never loaded.
            var parsed = PipelineParser.RefuseIfTooLarge(new FileInfo(path).Length, path)
                         ?? PipelineParser.Parse(File.ReadAllText(path), path);
            var stages = parsed.Pipeline?.Stages.Count;
            var jobs = parsed.Pipeline?.Stages.Sum(s => s.Jobs.Count);
            if (result.GetValue(CliContext.JsonOutput))
                CliContext.PrintJson(new LintReport(path, parsed.IsValid, parsed.IsValid ? stages : null, parsed.IsValid ? jobs : null,
                    parsed.Errors.Select(e => new LintErrorReport(e.Line, e.Column, e.Path, e.Message, e.ToString())).ToList()));
            else
            {
                foreach (var error in parsed.Errors) Console.WriteLine(error);
                if (parsed.IsValid) Console.WriteLine($"{path}: OK ({Counted.Of(stages!.Value, "stage")}, {Counted.Of(jobs!.Value, "job")})");
            }
            return parsed.IsValid ? 0 : 1;
        });
        return command;
    }
}
