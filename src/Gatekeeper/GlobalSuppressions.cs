using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage(
    "Naming",
    "CA1710:Identifiers should have correct suffix",
    Justification = "It is the one-sentence command-line error a user sees with its exit code, caught only by the command runner; the name says that, and it never reaches a library caller.",
    Scope = "type",
    Target = "~T:Gatekeeper.Cli.CommandLineError")]
