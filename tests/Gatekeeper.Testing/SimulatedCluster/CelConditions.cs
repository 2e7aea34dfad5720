using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cel;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// Webhook <c>matchConditions</c> evaluated by a real CEL implementation (the <c>Cel</c> package, a C# port of cel-spec),
/// with the variables the API server binds: <c>object</c>, <c>oldObject</c> (null where absent), <c>request</c> (the
/// AdmissionRequest) and <c>namespaceObject</c>. Objects are handed over as CEL maps of their JSON, as Kubernetes does
/// for resources without a schema-typed environment. Programs are compiled once per expression.
/// </summary>
public static class CelConditions
{
    private static readonly CelEnvironment Environment = new([], null);
    private static readonly ConcurrentDictionary<string, Func<IDictionary<string, object?>, object?>> Programs = new(StringComparer.Ordinal);

    /// <summary>True, false, or the error the API server would report for the expression.</summary>
    public static (bool? Matched, string? Error) Evaluate(string expression, JsonNode? obj, JsonNode? oldObj, JsonNode request, JsonNode? namespaceObject)
    {
        try
        {
            var program = Programs.GetOrAdd(expression, e => Compile(e));
            var result = program(new Dictionary<string, object?>
            {
                ["object"] = ToCel(obj),
                ["oldObject"] = ToCel(oldObj),
                ["request"] = ToCel(request),
                ["namespaceObject"] = ToCel(namespaceObject),
            });
            return result is bool matched ? (matched, null) : (null, $"expression '{expression}' resulted in error: no such overload (returned {result?.GetType().Name ?? "null"}, not a bool)");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, $"expression '{expression}' resulted in error: {e.Message}");
        }
    }

    private static Func<IDictionary<string, object?>, object?> Compile(string expression)
    {
        var program = Environment.Compile(expression);
        return variables => program.Invoke(variables);
    }

    /// <summary>JSON as CEL values: maps with string keys, lists, int (whole numbers), double, string, bool, null.</summary>
    public static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject map => map.ToDictionary(pair => pair.Key, pair => ToCel(pair.Value)),
        JsonArray list => list.Select(ToCel).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetValue<long>(out var whole) => whole,
            JsonValueKind.Number => value.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };
}
