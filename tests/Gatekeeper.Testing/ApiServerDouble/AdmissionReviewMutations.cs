using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// A fuzzed AdmissionReview body: a real one from <see cref="AdmissionReviewBodies"/> with fields dropped, renamed or
/// given the wrong type, strings made huge or odd, values nested hundreds deep, then the bytes truncated, flipped or
/// spliced with invalid UTF-8. <see cref="ToString"/> says what was done, so a failing sample reads as a recipe.
/// </summary>
public sealed record MutatedReview(byte[] Body, string Recipe)
{
    public override string ToString() => $"{Recipe} ({Body.Length} bytes): {Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 400))}";
}

public static class AdmissionReviewMutations
{
    private static readonly string[] Originals =
    [
        AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = "p1" })),
        AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Deployment("shop", "team-a", OptIn)),
        AdmissionReviewBodies.Review("UPDATE", AdmissionReviewBodies.Deployment("shop", "team-a", OptIn, image: "ghcr.io/example/shop:1.1.0"),
            AdmissionReviewBodies.Deployment("shop", "team-a", OptIn), dryRun: true),
        AdmissionReviewBodies.Review("DELETE", AdmissionReviewBodies.Pod("team-a", "shop", null)),
    ];

    private static Dictionary<string, string> OptIn => new()
    {
        ["gatekeeper.dev/migrations"] = "shop-migrations",
        ["gatekeeper.dev/database-secret"] = "shop-db",
    };

    /// <summary>One structural change at the <c>Target</c>-th value of the tree (in document order, modulo their count).</summary>
    private sealed record Change(int Kind, int Target, int Size);

    /// <summary>One byte-level change at <c>Position</c> (modulo the length).</summary>
    private sealed record Damage(int Kind, int Position, byte Value);

    private static readonly Gen<Change> Changes = Gen.Select(Gen.Int[0, 7], Gen.Int[0, int.MaxValue], Gen.Int[0, 9], (kind, target, size) => new Change(kind, target, size));

    private static readonly Gen<Damage> Damages = Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Byte, (kind, position, value) => new Damage(kind, position, value));

    /// <summary>Bodies with one to four structural changes and, one time in three, byte-level damage.</summary>
    public static readonly Gen<MutatedReview> Bodies = Gen.Select(
        Gen.Int[0, Originals.Length - 1],
        Changes.Array[1, 4],
        Gen.Frequency((2, Gen.Const(Array.Empty<Damage>())), (1, Damages.Array[1, 2])),
        (original, changes, damages) => Mutate(Originals[original], changes, damages));

    private static MutatedReview Mutate(string original, Change[] changes, Damage[] damages)
    {
        var root = JsonNode.Parse(original)!;
        var recipe = new List<string>();
        foreach (var change in changes)
        {
            var places = Places(root);
            if (places.Count == 0)
            {
                break;
            }

            var (parent, key, index) = places[change.Target % places.Count];
            var value = key is not null ? ((JsonObject)parent)[key] : ((JsonArray)parent)[index];
            var where = key ?? $"[{index}]";
            JsonNode? replacement;
            switch (change.Kind)
            {
                case 0:
                    recipe.Add($"dropped {where}");
                    Remove(parent, key, index);
                    continue;
                case 1 when key is not null:
                    var renamed = (change.Size % 3) switch { 0 => key.ToUpperInvariant(), 1 => key + "_", _ => string.Empty };
                    recipe.Add($"renamed {key} to \"{renamed}\"");
                    var obj = (JsonObject)parent;
                    obj.Remove(key);
                    obj[renamed] = value;
                    continue;
                case 2 or 1:
                    replacement = WrongType(change.Size);
                    recipe.Add($"{where} = {replacement?.ToJsonString() ?? "null"}");
                    break;
                case 3:
                    replacement = JsonValue.Create(new string("x\n\"é\u0001 "[change.Size % 6], 20_000 * (1 + change.Size)));
                    recipe.Add($"{where} = a string of {20_000 * (1 + change.Size)} characters");
                    break;
                case 4:
                    replacement = Nested(value?.DeepClone(), depth: 20 + (change.Size * 25), arrays: change.Size % 2 == 0);
                    recipe.Add($"{where} nested {20 + (change.Size * 25)} deep");
                    break;
                case 5:
                    // A placeholder the written JSON swaps for the literal: the writer refuses to write a lone surrogate.
                    replacement = JsonValue.Create($"@@odd{change.Size % OddStrings.Length}@@");
                    recipe.Add($"{where} = {OddStrings[change.Size % OddStrings.Length]}");
                    break;
                default:
                    // An array grows by a copy of one of its elements; an object member becomes an array of two copies.
                    if (parent is JsonArray array)
                    {
                        recipe.Add($"{where} appended again");
                        array.Add(value?.DeepClone());
                        continue;
                    }

                    replacement = new JsonArray(value?.DeepClone(), value?.DeepClone());
                    recipe.Add($"{where} doubled into an array");
                    break;
            }

            if (key is not null)
            {
                ((JsonObject)parent)[key] = replacement;
            }
            else
            {
                ((JsonArray)parent)[index] = replacement;
            }
        }

        var body = Write(root);
        foreach (var damage in damages)
        {
            (body, var what) = Apply(body, damage);
            recipe.Add(what);
        }

        return new MutatedReview(body, string.Join("; ", recipe));
    }

    /// <summary>JSON string literals as written on the wire (escapes kept), including ones no writer would produce.</summary>
    private static readonly string[] OddStrings =
    [
        "\"\"", "\" \"", "\"line one\\nline two. Sentence two.\"", "\"tab\\there\"", "\"\\u0000nul\"", "\"\\ud800 lone surrogate\"",
        "\"\\udfff\"", "\"emoji \\ud83d\\ude00\"", "\"right-to-left \\u202e\"", "\"admission.k8s.io/v1\\n\"", "\"CREATE \"", "\"create\"",
        "\"Deployment\\r\\n\"", "\"../../etc/passwd\"", "\"%00%ff\"", "\"{\\\"json\\\":1}\"", "\"\\u00\"", "\"\\x41\"",
    ];

    private static byte[] Write(JsonNode root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = 4096 }))
        {
            root.WriteTo(writer);
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        for (var i = 0; i < OddStrings.Length; i++)
        {
            text = text.Replace($"\"@@odd{i}@@\"", OddStrings[i], StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static JsonNode? WrongType(int size) => (size % 9) switch
    {
        0 => null,
        1 => JsonValue.Create(0),
        2 => JsonValue.Create(-1.5e308),
        3 => JsonValue.Create(true),
        4 => new JsonArray(),
        5 => new JsonObject(),
        6 => JsonValue.Create("a string"),
        7 => JsonNode.Parse("123456789012345678901234567890"),
        _ => new JsonArray(JsonValue.Create("x"), null, JsonValue.Create(1)),
    };

    private static JsonNode Nested(JsonNode? inner, int depth, bool arrays)
    {
        var node = inner;
        for (var i = 0; i < depth; i++)
        {
            node = arrays ? new JsonArray(node) : new JsonObject { ["n"] = node };
        }

        return node!;
    }

    private static (byte[] Body, string What) Apply(byte[] body, Damage damage)
    {
        var at = body.Length == 0 ? 0 : damage.Position % body.Length;
        return damage.Kind switch
        {
            0 => (body[..at], $"truncated at byte {at}"),
            1 => ([.. body[..at], .. InvalidUtf8[damage.Value % InvalidUtf8.Length], .. body[at..]], $"invalid UTF-8 #{damage.Value % InvalidUtf8.Length} at byte {at}"),
            2 => (Flip(body, at, damage.Value), $"byte {at} xor {damage.Value}"),
            _ => ([.. body[..at], .. body[..Math.Min(at, 64)], .. body[at..]], $"first {Math.Min(at, 64)} bytes repeated at byte {at}"),
        };
    }

    private static readonly byte[][] InvalidUtf8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xc0, 0xaf], [0x00]];

    private static byte[] Flip(byte[] body, int at, byte mask)
    {
        var copy = (byte[])body.Clone();
        if (copy.Length > 0)
        {
            copy[at] ^= mask == 0 ? (byte)0x20 : mask;
        }

        return copy;
    }

    /// <summary>Every value's place in the tree (the root excluded), in a fixed depth-first order.</summary>
    private static List<(JsonNode Parent, string? Key, int Index)> Places(JsonNode root)
    {
        var places = new List<(JsonNode, string?, int)>();
        var pending = new Stack<JsonNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (node is JsonObject obj)
            {
                foreach (var (key, child) in obj.ToArray())
                {
                    places.Add((obj, key, -1));
                    if (child is not null)
                    {
                        pending.Push(child);
                    }
                }
            }
            else if (node is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    places.Add((array, null, i));
                    if (array[i] is { } child)
                    {
                        pending.Push(child);
                    }
                }
            }
        }

        return places;
    }

    private static void Remove(JsonNode parent, string? key, int index)
    {
        if (key is not null)
        {
            ((JsonObject)parent).Remove(key);
        }
        else
        {
            ((JsonArray)parent).RemoveAt(index);
        }
    }

    /// <summary>What the webhook answers with 400: one line, one full stop at the end, short enough to read in kubectl.</summary>
    public static void AssertOneSentence(string error)
    {
        Assert.False(string.IsNullOrWhiteSpace(error), "an empty error");
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain('\r', error);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
        Assert.True(error.Length < 400, $"an error of {error.Length} characters");
    }
}
