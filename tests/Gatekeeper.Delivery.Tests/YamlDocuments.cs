using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// YAML read as plain trees: mappings become dictionaries with string keys, sequences lists, scalars strings. Enough
/// for structural checks, and it never invents a type the file does not have.
/// </summary>
public static class YamlDocuments
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static IReadOnlyList<Dictionary<string, object?>> LoadAll(string relativePath)
    {
        var text = RepositoryFiles.ReadText(relativePath);
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<string, object?>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Normalize(Deserializer.Deserialize<object?>(parser)) is Dictionary<string, object?> document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static Dictionary<string, object?> Load(string relativePath) =>
        LoadAll(relativePath) switch
        {
            [var single] => single,
            var all => throw new InvalidOperationException($"{relativePath} holds {all.Count} YAML documents, expected one."),
        };

    public static object? At(this object? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node is Dictionary<string, object?> map && map.TryGetValue(key, out var child) ? child : null;
        }

        return node;
    }

    public static Dictionary<string, object?> MapAt(this object? node, params string[] path) =>
        node.At(path) as Dictionary<string, object?> ?? [];

    public static IReadOnlyList<object?> ListAt(this object? node, params string[] path) =>
        node.At(path) as List<object?> ?? [];

    public static string? StringAt(this object? node, params string[] path) => node.At(path) as string;

    public static IEnumerable<string> Strings(this IReadOnlyList<object?> list) => list.OfType<string>();

    private static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(pair => Convert.ToString(pair.Key, System.Globalization.CultureInfo.InvariantCulture)!, pair => Normalize(pair.Value), StringComparer.Ordinal),
        IList<object?> list => list.Select(Normalize).ToList(),
        _ => node,
    };
}
