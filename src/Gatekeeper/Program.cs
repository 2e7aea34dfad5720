using Gatekeeper.Cli;

return await GatekeeperCommandLine.InvokeAsync(args, Console.Out, Console.Error);
