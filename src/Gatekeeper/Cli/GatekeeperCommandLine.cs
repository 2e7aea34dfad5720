using System.CommandLine;

namespace Gatekeeper.Cli;

/// <summary>The one place every <c>gatekeeper</c> command is wired, and how parse errors become exit code 2.</summary>
public static class GatekeeperCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Gatekeeper: safe, exactly-once database migrations for Kubernetes rollouts. " +
            "The same engine runs here, in CI, in the admission webhook and in the migration Job.");
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(LintCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        root.Subcommands.Add(SchemaCommand.Create());
        root.Subcommands.Add(Webhook.ServeCommand.Create());
        root.Subcommands.Add(ClusterStatusCommand.Create());
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parseResult = Build().Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync($"gatekeeper: {parseError.Message}");
            }

            await error.WriteLineAsync("Run 'gatekeeper --help' for usage.");
            return ExitCodes.UsageOrConfiguration;
        }

        var configuration = new InvocationConfiguration { Output = output, Error = error };
        return await parseResult.InvokeAsync(configuration);
    }
}
