using System.Text.Json.Serialization;

namespace Gatekeeper.Cli;

/// <summary>
/// The JSON the command line prints (<c>--output json</c>), generated at compile time: the Native AOT binary has no
/// reflection-based serializer. Indented, camelCase, nulls left out.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PlanRenderer.PlanDocument))]
[JsonSerializable(typeof(DryRunRenderer.DryRunDocument))]
[JsonSerializable(typeof(PlanRenderer.VerdictDocument))]
[JsonSerializable(typeof(MigrateCommand.MigrateDocument))]
[JsonSerializable(typeof(StatusCommand.StatusDocument))]
[JsonSerializable(typeof(RepairCommand.RepairDocument))]
[JsonSerializable(typeof(FailureDocument))]
[JsonSerializable(typeof(Gatekeeper.Core.Planning.DatabaseIdentity))]
internal sealed partial class CliJson : JsonSerializerContext;
