using System.CommandLine;
using Slipway.Cli.Output;

namespace Slipway.Cli.Commands.Var;

/// <summary>
/// <c>slipway var set PROJECT NAME [--secret] [--protected|--unprotected] (--value V | --value-stdin)</c>,
/// <c>slipway var list PROJECT</c>, <c>slipway var delete PROJECT NAME</c>. For secrets prefer <c>--value-stdin</c>: a
/// value on the command line stays in the shell history and is visible to other users in the process list. A protected
/// variable reaches only runs of protected branches and deployments; new secrets are protected unless --unprotected.
/// </summary>
public static class VarCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "Project name" };
        var name = new Argument<string>("name") { Description = "Variable name (letters, digits, '_')" };
        var secret = new Option<bool>("--secret") { Description = "Encrypt it, never show it again, mask it in logs; only jobs listing it in 'secrets:' get it" };
        var value = new Option<string?>("--value") { Description = "The value (for secrets prefer --value-stdin)" };
        var fromStdin = new Option<bool>("--value-stdin") { Description = "Read the value from standard input (one trailing newline of a one-line value is dropped)" };
        var protect = new Option<bool>("--protected") { Description = "Give it only to runs of protected branches and to deployments (the default for a new secret)" };
        var unprotect = new Option<bool>("--unprotected") { Description = "Give it to the jobs of every branch (the default for a new plain variable)" };

        var set = new Command("set", "Create or change a project variable") { project, name, secret, protect, unprotect, value, fromStdin, CliContext.JsonOutput };
        set.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            var given = result.GetValue(value);
            var stdin = result.GetValue(fromStdin);
            if ((given is null) == !stdin)
            {
                await Console.Error.WriteLineAsync("error: give the value with exactly one of --value V or --value-stdin");
                return 2;
            }
            if (result.GetValue(protect) && result.GetValue(unprotect))
            {
                await Console.Error.WriteLineAsync("error: give at most one of --protected and --unprotected");
                return 2;
            }
            bool? isProtected = result.GetValue(protect) ? true : result.GetValue(unprotect) ? false : null;
            var isSecret = result.GetValue(secret);
            if (given is not null && isSecret)
                await Console.Error.WriteLineAsync("warning: a secret given with --value may stay in your shell history; prefer --value-stdin");
            var text = given ?? TrimOneNewline(await Console.In.ReadToEndAsync(ct));
            using var client = CliContext.CreateClient(result);
            var stored = await client.SetVariableAsync(result.GetValue(project)!, result.GetValue(name)!, text, isSecret, isProtected, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(stored); return 0; }
            Console.WriteLine($"set {(stored.Secret ? "secret" : "variable")} {stored.Name} of project {result.GetValue(project)}, " +
                              (stored.Protected ? "protected (only runs of protected branches and deployments get it)" : "unprotected (jobs of every branch may get it)"));
            return 0;
        }));

        var list = new Command("list", "List a project's variables (secret values are never shown)") { project, CliContext.JsonOutput };
        list.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            var variables = await client.ListVariablesAsync(result.GetValue(project)!, ct);
            if (result.GetValue(CliContext.JsonOutput)) { CliContext.PrintJson(variables); return 0; }
            var table = new TextTable("NAME", "VALUE", "REACHES", "UPDATED (UTC)", "BY");
            foreach (var v in variables)
                table.Add(v.Name, v.Secret ? "(secret)" : v.Value, v.Protected ? "protected branches" : "every branch",
                    v.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), v.UpdatedBy);
            table.WriteToConsole();
            return 0;
        }));

        var delete = new Command("delete", "Delete a project variable") { project, name };
        delete.SetAction((result, ct) => CliContext.GuardAsync(async () =>
        {
            using var client = CliContext.CreateClient(result);
            await client.DeleteVariableAsync(result.GetValue(project)!, result.GetValue(name)!, ct);
            Console.WriteLine($"deleted {result.GetValue(name)} of project {result.GetValue(project)}");
            return 0;
        }));
        return new Command("var", "Project variables and secrets") { set, list, delete };
    }

    /// <summary><c>echo token | slipway var set ...</c> should store "token"; a multi-line value (a PEM key) is kept as it is.</summary>
    public static string TrimOneNewline(string text)
    {
        var trimmed = text.EndsWith("\r\n") ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        return trimmed.Contains('\n') ? text : trimmed;
    }
}
