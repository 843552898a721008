using System.CommandLine;
using Slipway.Cli;
using Slipway.Cli.Commands.Agent;
using Slipway.Cli.Commands.Gate;
using Slipway.Cli.Commands.Check;
using Slipway.Cli.Commands.Audit;
using Slipway.Cli.Commands.Lint;
using Slipway.Cli.Commands.Login;
using Slipway.Cli.Commands.Logs;
using Slipway.Cli.Commands.Project;
using Slipway.Cli.Commands.Role;
using Slipway.Cli.Commands.Run;
using Slipway.Cli.Commands.Server;
using Slipway.Cli.Commands.Token;
using Slipway.Cli.Commands.User;
using Slipway.Cli.Commands.Var;
using Slipway.Cli.Commands.Item;
using Slipway.Cli.Commands.Release;
using Slipway.Cli.Commands.ChangeRequest;
using Slipway.Cli.Commands.Deploy;
using Slipway.Cli.Commands.Target;
using Slipway.Cli.Commands.Node;

var root = new RootCommand("Slipway: continuous deployment from request to production")
{
    ServerCommand.Create(),
    AgentCommand.Create(),
    NodeCommand.Create(),
    ProjectCommand.Create(),
    VarCommand.Create(),
    ItemCommand.Create(),
    CrCommand.Create(),
    ReleaseCommand.Create(),
    GateCommand.Create(),
    GateCommand.Checklist(),
    GateCommand.SignOff(),
    CheckCommand.Create(),
    CheckCommand.Alerts(),
    EnvCommand.Create(),
    RunCommand.Create(),
    LogsCommand.Create(),
    LintCommand.Create(),
    LoginCommand.Create(),
    UserCommand.Create(),
    RoleCommand.Create(),
    RoleCommand.ActionsCommand(),
    TokenCommand.Create(),
    AuditCommand.Create(),
};
foreach (var command in DeployCommands.Create()) root.Subcommands.Add(command);
foreach (var command in TargetCommand.Create()) root.Subcommands.Add(command);
root.Options.Add(CliContext.Server);
root.Options.Add(CliContext.Token);
// A command that fails outside its own error handling prints one line, never a .NET stack trace.
try { return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
catch (CliUsageException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return CliContext.UsageError;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 1;
}
