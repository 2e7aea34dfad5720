using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The pod webhook's in-place answer (<see cref="PodReviewReader"/> over the body's bytes, <see cref="PodGate"/> on what it
/// read, the answer from prebuilt pieces) against the full path it stands in for (<see cref="AdmissionReviewReader"/>'s
/// document, <see cref="PodMutation.AdmitAsync"/>, <see cref="AdmissionReviewWriter"/>): whenever the in-place path answers,
/// its bytes and metric decision are the full path's, for the body in one piece and cut into segments as Kestrel hands it
/// over; where it declines, the full path answers (or refuses) as before, also however the body is cut.
/// </summary>
public sealed class PodInPlaceAnswerTests
{
    private const string Plan = "p1";

    private static readonly string Stamped =
        AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Plan }),
            uid: "0b6f6d0e-1111-4222-8333-444455556666");

    /// <summary>The plan pending (the pod is gated) and applied for team-a/shop (the pod passes).</summary>
    private static IEnumerable<AppliedPlans> PlanStates()
    {
        yield return new AppliedPlans();
        var applied = new AppliedPlans();
        applied.Record("team-a", "shop", "0b6f6d0e-aaaa-4222-8333-444455556666", [Plan]);
        yield return applied;
    }

    /// <summary>Asserts both paths agree on <paramref name="body"/>; returns whether the in-place path answered (in one piece).</summary>
    private static async Task<bool> AssertSameAnswerAsync(byte[] body)
    {
        var answered = false;
        foreach (var plans in PlanStates())
        {
            var handler = new PodMutation(plans);
            var full = await FullAsync(handler, new ReadOnlySequence<byte>(body));
            foreach (var (sequence, pieces) in Sequences(body))
            {
                // The full reader itself answers the same however the body is cut.
                Assert.Equal(full, await FullAsync(handler, sequence));
                var output = new ArrayBufferWriter<byte>();
                var decision = handler.TryAnswerInPlace(sequence, output);
                if (decision is null)
                {
                    Assert.True(output.WrittenCount == 0, "declined after writing");
                    continue;
                }

                answered |= pieces == 1;
                Assert.True(full.Refusal is null, $"answered in place ({pieces} pieces) what the full reader refuses: {full.Refusal}");
                Assert.Equal(full.Decision, decision);
                Assert.Equal(full.Answer, Encoding.UTF8.GetString(output.WrittenSpan));
            }
        }

        return answered;
    }

    private static async Task<(string? Answer, string? Decision, string? Refusal)> FullAsync(PodMutation handler, ReadOnlySequence<byte> body)
    {
        var parsed = AdmissionReviewReader.Read(body, out var document);
        using (document)
        {
            if (!parsed.Succeeded)
            {
                return (null, null, parsed.Error);
            }

            var response = await handler.AdmitAsync(parsed.Request, CancellationToken.None);
            var output = new ArrayBufferWriter<byte>();
            AdmissionReviewWriter.Write(output, response);
            return (Encoding.UTF8.GetString(output.WrittenSpan), !response.Allowed ? "denied" : response.Patch is not null ? "patched" : "allowed", null);
        }
    }

    /// <summary>The body in one piece, cut every 7 bytes, and cut every byte (each value then straddles segments).</summary>
    private static IEnumerable<(ReadOnlySequence<byte> Sequence, int Pieces)> Sequences(byte[] body)
    {
        yield return (new ReadOnlySequence<byte>(body), 1);
        if (body.Length is > 1 and < 200_000)
        {
            yield return (Segments(body, 7), (body.Length + 6) / 7);
        }

        if (body.Length is > 1 and < 20_000)
        {
            yield return (Segments(body, 1), body.Length);
        }
    }

    private static ReadOnlySequence<byte> Segments(byte[] body, int size) => SegmentedBytes.Of(body, Math.Min(size, body.Length), size);

    [Fact]
    public async Task The_benchmark_pod_and_a_stamped_pod_are_answered_in_place_as_the_full_reader_answers_them()
    {
        var fixture = await File.ReadAllBytesAsync(Path.Combine(RepositoryRoot(), "bench", "fixtures", "pod-create-review.json"));

        Assert.True(await AssertSameAnswerAsync(fixture), "the benchmark's pod was not answered in place");
        Assert.True(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(Stamped)), "a stamped pod was not answered in place");
    }

    [Fact]
    public void Answering_a_pod_in_place_allocates_nothing_once_warm()
    {
        var body = Encoding.UTF8.GetBytes(Stamped);
        var inPieces = Segments(body, (body.Length / 2) + 1);
        var output = new ArrayBufferWriter<byte>(4096);
        var handler = new PodMutation(PlanStates().Last());
        var pending = new PodMutation(PlanStates().First());
        Assert.Equal("allowed", handler.TryAnswerInPlace(inPieces, output));
        Assert.Equal("patched", pending.TryAnswerInPlace(new ReadOnlySequence<byte>(body), output));

        // As PodGate's own allocation test: the per-thread counter can move by part of a quantum under parallel tests, a
        // real allocation cannot hide (it is 2,000 of them per round), so up to five rounds and one of them exactly zero.
        var rounds = new List<long>();
        for (var round = 0; round < 5 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1_000; i++)
            {
                output.ResetWrittenCount();
                handler.TryAnswerInPlace(inPieces, output);
                output.ResetWrittenCount();
                pending.TryAnswerInPlace(new ReadOnlySequence<byte>(body), output);
            }

            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(rounds[^1] == 0, $"2000 in-place answers allocated {string.Join(", ", rounds)} bytes in {rounds.Count} rounds");
    }

    [Fact]
    public async Task Mutated_reviews_answered_in_place_are_answered_exactly_as_the_full_reader_answers_them()
    {
        var inPlace = 0;
        var declined = 0;
        await AdmissionReviewMutations.Bodies.SampleAsync(async review =>
        {
            if (await AssertSameAnswerAsync(review.Body))
            {
                inPlace++;
            }
            else
            {
                declined++;
            }
        }, iter: 400, threads: 1);

        // Means little if the mutations never reach the in-place path, or it never declines.
        Assert.True(inPlace > 0 && declined > 0, $"{inPlace} answered in place, {declined} declined");
    }

    // Odd bodies the API server could send (or a proxy could re-encode) that stay valid AdmissionReviews: each is answered in
    // place, exactly as the full reader answers it.
    [Theory]
    [InlineData("escaped member names and values", "escape")]
    [InlineData("every object's members in reverse order", "reverse")]
    [InlineData("unknown members at every level", "unknown")]
    [InlineData("a 1 MB annotation and a 1 MB unknown member", "huge")]
    [InlineData("a uid with characters the JSON writer escapes", "odd-uid")]
    [InlineData("an UPDATE", "update")]
    [InlineData("a pod that already carries the gate among others", "gated")]
    [InlineData("a pod with other gates", "other-gates")]
    [InlineData("a null object", "null-object")]
    [InlineData("no namespace, a null name, null sub-resource and dry run", "nulls")]
    [InlineData("a pod that no ReplicaSet owns", "no-owner")]
    [InlineData("an owner that is not the controller before the ReplicaSet", "owners")]
    public async Task Odd_but_valid_reviews_are_answered_in_place_as_the_full_reader_answers_them(string what, string edit)
    {
        var body = Encoding.UTF8.GetBytes(Edit(edit));

        Assert.True(await AssertSameAnswerAsync(body), $"{what}: not answered in place");
    }

    // Bodies the in-place path leaves to the full reader: a member it reads given twice (which one counts is the full
    // reader's rule), values longer than its buffers, and everything the full reader refuses.
    [Theory]
    [InlineData("metadata twice, only the first stamped", "metadata-twice-first")]
    [InlineData("metadata twice, only the last stamped", "metadata-twice-last")]
    [InlineData("the plan annotation twice", "plan-twice")]
    [InlineData("apiVersion twice, the last one wrong", "api-version-twice")]
    [InlineData("request twice", "request-twice")]
    [InlineData("operation twice", "operation-twice")]
    [InlineData("a gate's name twice", "gate-name-twice")]
    [InlineData("an owner's kind twice", "owner-kind-twice")]
    [InlineData("a 300-character uid", "long-uid")]
    [InlineData("a 300-character plan", "long-plan")]
    [InlineData("a lone surrogate escape in an unknown member", "surrogate")]
    [InlineData("text after the review", "trailing")]
    [InlineData("an unknown member nested 200 deep", "deep")]
    [InlineData("a namespace that is no namespace name", "bad-namespace")]
    [InlineData("an operation the API server never sends", "bad-operation")]
    [InlineData("userInfo.groups holding a number", "bad-groups")]
    [InlineData("the object an array", "array-object")]
    public async Task Reviews_the_in_place_path_declines_are_answered_by_the_full_reader(string what, string edit)
    {
        var body = Encoding.UTF8.GetBytes(Edit(edit));

        Assert.False(await AssertSameAnswerAsync(body), $"{what}: answered in place");
    }

    // The in-place path checks the JSON itself (StrictJsonSpanReader), so each of these, given as the value of an unknown
    // member, must be left to the full reader, which refuses it as not JSON: an answer in place would be a 200 for a body
    // that is a 400.
    [Theory]
    [InlineData("01")]
    [InlineData("-01")]
    [InlineData("1.")]
    [InlineData("1.e5")]
    [InlineData(".5")]
    [InlineData("-")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("+1")]
    [InlineData("0x10")]
    [InlineData("1x")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("tru")]
    [InlineData("True")]
    [InlineData("nul")]
    [InlineData("truefalse")]
    [InlineData("nullx")]
    [InlineData("[1,]")]
    [InlineData("[,1]")]
    [InlineData("[1 2]")]
    [InlineData("[}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{,}")]
    [InlineData("{\"a\"}")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{\"a\":1 \"b\":2}")]
    [InlineData("{1:2}")]
    [InlineData("{\"a\"::1}")]
    [InlineData("'single'")]
    [InlineData("\"raw\ttab\"")]
    [InlineData("\"raw\u0001control\"")]
    [InlineData("\"\\x41\"")]
    [InlineData("\"\\u00\"")]
    [InlineData("\"\\u00zz\"")]
    [InlineData("\"\\\"")]
    [InlineData("/* a comment */ 1")]
    [InlineData("1 // a comment")]
    [InlineData("\u000b1")]
    [InlineData("\u00a01")]
    [InlineData("]")]
    [InlineData("1}")]
    [InlineData("")]
    public async Task Bodies_that_are_not_JSON_are_left_to_the_full_reader_which_refuses_them(string value)
    {
        var body = Encoding.UTF8.GetBytes(WithUnknownMember(value));

        var parsed = AdmissionReviewReader.Read(new ReadOnlySequence<byte>(body), out var document);
        document?.Dispose();
        Assert.False(parsed.Succeeded, $"{value}: the full reader accepts it");
        Assert.StartsWith("the request body is not valid JSON", parsed.Error, StringComparison.Ordinal);
        Assert.False(await AssertSameAnswerAsync(body), $"{value}: answered in place");
    }

    // Valid JSON in every form the grammar allows, in members the webhook skips: each is answered in place, as the full
    // reader answers it.
    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-1.5e+10")]
    [InlineData("1E-3")]
    [InlineData("0.0e0")]
    [InlineData("123456789012345678901234567890.123456789")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData(" [ [ ] , [ { } , 1 , \"a\" ] ]\t\r\n")]
    [InlineData("{\"\":{\"a\\\"b\":[true,false,null]}}")]
    [InlineData("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\"")]
    [InlineData("\"é€😀 raw\"")]
    [InlineData("\"a string longer than sixteen bytes, so read sixteen at a time, with \\\"quotes\\\" inside\"")]
    public async Task Valid_JSON_of_every_form_is_answered_in_place_as_the_full_reader_answers_it(string value)
    {
        Assert.True(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(WithUnknownMember(value))), $"{value}: not answered in place");
    }

    [Fact]
    public async Task An_indented_review_and_one_nested_just_under_the_readers_limit_are_answered_in_place()
    {
        var indented = JsonNode.Parse(Stamped)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var deep = WithUnknownMember(new string('[', 60) + new string(']', 60));

        Assert.True(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(indented)), "indented: not answered in place");
        Assert.True(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(deep)), "60 deep: not answered in place");
    }

    // The reader finds each string's end in a bitmap of quotes, backslashes and control characters, kept in the caller's
    // scratch for bodies up to 16 KB and rented above: a body of either size, with strings and escapes at every offset
    // of the bitmap's 64-byte words, is answered as the full reader answers it, and a raw control character far into the
    // large one still sends it to the full reader, which refuses it.
    [Theory]
    [InlineData(40)]
    [InlineData(700)]
    public async Task Strings_at_every_offset_of_a_small_and_a_large_body_are_read_as_the_full_reader_reads_them(int count)
    {
        var values = Enumerable.Range(0, count).Select(i => "\"" + new string('a', i % 67) + (i % 3 == 0 ? "\\\"" : "") + (i % 5 == 0 ? "\\u00e9" : "") + "\"");
        var value = "[" + string.Join(",", values) + "]";
        var body = WithUnknownMember(value);
        Assert.True(count < 100 ? body.Length < 16 * 1024 : body.Length > 16 * 1024, $"the body has {body.Length} bytes");

        Assert.True(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(body)), "not answered in place");
        var broken = WithUnknownMember(value.Insert(value.Length - 10, "\u0001"));
        Assert.False(await AssertSameAnswerAsync(Encoding.UTF8.GetBytes(broken)), "a raw control character answered in place");
    }

    // The reader's bitmap pass also finds whether the body is all ASCII, and only a body with other bytes has its UTF-8
    // checked apart: a raw non-ASCII character, valid or not, at every offset of the pass's 16-byte vectors and 64-byte
    // words and in the bytes after its last whole word, near the start of the body and at its end, is answered in place
    // exactly when it is valid UTF-8 (the full reader refuses the others as not UTF-8).
    [Theory]
    [InlineData("C3 A9", true)]
    [InlineData("E2 82 AC", true)]
    [InlineData("F0 9F 98 80", true)]
    [InlineData("C3", false)]
    [InlineData("FF", false)]
    [InlineData("C0 80", false)]
    [InlineData("ED A0 80", false)]
    public async Task Raw_non_ASCII_bytes_anywhere_in_the_body_are_answered_in_place_exactly_when_they_are_valid_UTF_8(string hex, bool valid)
    {
        var character = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var stamped = Encoding.UTF8.GetBytes(Stamped);
        var around = WithUnknownMember("VALUE").Split("VALUE");
        for (var pad = 0; pad < 64; pad++)
        {
            byte[] value = [(byte)'"', .. Encoding.UTF8.GetBytes(new string('a', pad)), .. character, (byte)'"'];
            byte[] atStart = [.. Encoding.UTF8.GetBytes(around[0]), .. value, .. Encoding.UTF8.GetBytes(around[1])];
            byte[] atEnd = [.. stamped[..^1], .. ",\"zz-last\":"u8.ToArray(), .. value, (byte)'}'];

            Assert.True(valid == await AssertSameAnswerAsync(atStart), $"{hex} after {pad} bytes near the start: answered in place {!valid}");
            Assert.True(valid == await AssertSameAnswerAsync(atEnd), $"{hex} after {pad} bytes at the end: answered in place {!valid}");
        }
    }

    // The pod webhook does not clear its 5 KB stack scratch before each read (clearing it was a memset per pod): what the
    // reader finds must not depend on what the scratch held. Read with a scratch of set bits, every body gives what it gives
    // with a clear one (and, unlike a clear one, a bitmap word left unwritten would show).
    [Theory]
    [InlineData("benchmark")]
    [InlineData("stamped")]
    [InlineData("escape")]
    [InlineData("gated")]
    [InlineData("owners")]
    [InlineData("huge")]
    public async Task The_in_place_reader_finds_the_same_whatever_its_scratch_held_before(string edit)
    {
        var body = edit switch
        {
            "benchmark" => await File.ReadAllBytesAsync(Path.Combine(RepositoryRoot(), "bench", "fixtures", "pod-create-review.json")),
            "stamped" => Encoding.UTF8.GetBytes(Stamped),
            _ => Encoding.UTF8.GetBytes(Edit(edit)),
        };
        var clear = new char[PodReviewReader.ScratchLength];
        var dirty = new char[PodReviewReader.ScratchLength];
        dirty.AsSpan().Fill('\uffff');

        foreach (var (sequence, pieces) in Sequences(body).Take(2))
        {
            Assert.True(PodReviewReader.TryRead(sequence, clear, out var fromClear), $"{edit} ({pieces} pieces): not read with a clear scratch");
            var expected = Describe(fromClear);
            Assert.True(PodReviewReader.TryRead(sequence, dirty, out var fromDirty), $"{edit} ({pieces} pieces): not read with a dirty scratch");
            Assert.Equal(expected, Describe(fromDirty));
            dirty.AsSpan().Fill('\uffff');
        }
    }

    private static string Describe(PodReview review) =>
        $"uid={review.Uid} ns={review.Namespace} create={review.IsCreate} object={review.HasObject} " +
        $"plan={review.Pod.HasPlan}:{review.Pod.Plan} owner={review.Pod.HasOwner}:{review.Pod.Owner} " +
        $"hash={review.Pod.HasTemplateHash}:{review.Pod.TemplateHash} gates={review.Pod.HasGateList}:{review.Pod.AlreadyGated}";

    private static readonly byte[] JsonBytes = "{}[],:\"\\ \t\n0123456789-+.eEtrufalsn/*'x\u0001"u8.ToArray();

    /// <summary>One to three bytes inserted, replaced or deleted, each a byte that means something to JSON.</summary>
    private static readonly Gen<(int Kind, int Position, byte Value)[]> ByteEdits =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Int[0, JsonBytes.Length - 1].Select(i => JsonBytes[i]), (kind, position, value) => (kind, position, value))
            .Array[1, 3];

    [Fact]
    public async Task Reviews_with_bytes_that_matter_to_JSON_edited_anywhere_are_answered_in_place_only_as_the_full_reader_answers_them()
    {
        var original = Encoding.UTF8.GetBytes(Stamped);
        var inPlace = 0;
        var declined = 0;
        await ByteEdits.SampleAsync(async edits =>
        {
            var body = new List<byte>(original);
            foreach (var (kind, position, value) in edits)
            {
                var at = position % (body.Count + (kind == 0 ? 1 : 0));
                switch (kind)
                {
                    case 0:
                        body.Insert(at, value);
                        break;
                    case 1:
                        body[at] = value;
                        break;
                    default:
                        body.RemoveAt(at);
                        break;
                }
            }

            if (await AssertSameAnswerAsync([.. body]))
            {
                inPlace++;
            }
            else
            {
                declined++;
            }
        }, iter: 1000, threads: 1);

        Assert.True(inPlace > 0 && declined > 0, $"{inPlace} answered in place, {declined} declined");
    }

    private static string WithUnknownMember(string value)
    {
        const string at = "\"request\":";
        Assert.Contains(at, Stamped, StringComparison.Ordinal);
        return Stamped.Replace(at, "\"zz-unknown\":" + value + "," + at, StringComparison.Ordinal);
    }

    private static string Edit(string edit)
    {
        switch (edit)
        {
            case "reverse":
                return Reversed(JsonNode.Parse(Stamped)!)!.ToJsonString();
            case "unknown":
                return WithUnknownMembers(JsonNode.Parse(Stamped)!)!.ToJsonString();
            case "trailing":
                return Stamped + " x";
            case "deep":
                return Stamped.Replace("\"request\":", "\"deep\":" + new string('[', 200) + new string(']', 200) + ",\"request\":", StringComparison.Ordinal);
        }

        var (from, to) = edit switch
        {
            "escape" => ("\"operation\":\"CREATE\"", "\"\\u006fperation\":\"\\u0043REATE\""),
            "huge" => ("\"gatekeeper.dev/plan\":", $"\"big\":\"{new string('x', 1 << 20)}\",\"gatekeeper.dev/plan\":"),
            "odd-uid" => ("\"uid\":\"0b6f6d0e-1111-4222-8333-444455556666\"", "\"uid\":\"a<b>+c\\u00e9\""),
            "update" => ("\"operation\":\"CREATE\"", "\"operation\":\"UPDATE\""),
            "gated" => ("\"restartPolicy\":", "\"schedulingGates\":[{\"name\":\"example.com/quota\"},{\"name\":\"gatekeeper.dev/migration\"}],\"restartPolicy\":"),
            "other-gates" => ("\"restartPolicy\":", "\"schedulingGates\":[{\"name\":\"example.com/quota\"},7,{\"other\":1}],\"restartPolicy\":"),
            "null-object" => ("\"object\":{", "\"object\":null,\"unused\":{"),
            "nulls" => ("\"name\":\"\",\"namespace\":\"team-a\",\"operation\"", "\"name\":null,\"subResource\":null,\"operation\""),
            "no-owner" => ("\"controller\":true", "\"controller\":false"),
            "owners" => ("\"ownerReferences\":[", "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"other-5d4f8c7b9\",\"controller\":false},7,"),
            "metadata-twice-first" => ("\"spec\":{\"containers\"", "\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\""),
            "metadata-twice-last" => ("\"kind\":\"Pod\",\"apiVersion\":\"v1\",", "\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"},"),
            "plan-twice" => ("\"gatekeeper.dev/plan\":\"p1\"", "\"gatekeeper.dev/plan\":\"p1\",\"gatekeeper.dev/plan\":\"p2\""),
            "api-version-twice" => ("\"apiVersion\":\"admission.k8s.io/v1\"", "\"apiVersion\":\"admission.k8s.io/v1\",\"apiVersion\":\"admission.k8s.io/v1beta1\""),
            "request-twice" => ("{\"kind\":\"AdmissionReview\",", "{\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"other\"},"),
            "operation-twice" => ("\"operation\":\"CREATE\"", "\"operation\":\"CREATE\",\"operation\":\"UPDATE\""),
            "gate-name-twice" => ("\"restartPolicy\":", "\"schedulingGates\":[{\"name\":\"gatekeeper.dev/migration\",\"name\":\"x\"}],\"restartPolicy\":"),
            "owner-kind-twice" => ("\"kind\":\"ReplicaSet\"", "\"kind\":\"ReplicaSet\",\"kind\":\"Job\""),
            "long-uid" => ("\"uid\":\"0b6f6d0e-1111-4222-8333-444455556666\"", $"\"uid\":\"{new string('u', 300)}\""),
            "long-plan" => ("\"gatekeeper.dev/plan\":\"p1\"", $"\"gatekeeper.dev/plan\":\"{new string('p', 300)}\""),
            "surrogate" => ("\"request\":", "\"odd\":\"\\ud800\",\"request\":"),
            "bad-namespace" => ("\"namespace\":\"team-a\",\"operation\"", "\"namespace\":\"Team_A\",\"operation\""),
            "bad-operation" => ("\"operation\":\"CREATE\"", "\"operation\":\"PATCH\""),
            "bad-groups" => ("\"groups\":[", "\"groups\":[1,"),
            "array-object" => ("\"object\":{", "\"object\":[],\"unused\":{"),
            _ => throw new ArgumentException($"no edit {edit}", nameof(edit)),
        };
        var at = Stamped.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, $"{edit}: {from} is not in the review");
        return string.Concat(Stamped.AsSpan(0, at), to, Stamped.AsSpan(at + from.Length));
    }

    private static JsonNode? Reversed(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Reverse().Select(member => KeyValuePair.Create(member.Key, Reversed(member.Value?.DeepClone())))),
        JsonArray array => new JsonArray([.. array.Select(item => Reversed(item?.DeepClone()))]),
        _ => node?.DeepClone(),
    };

    private static JsonNode? WithUnknownMembers(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject { ["zz-unknown"] = new JsonObject { ["a"] = new JsonArray(1, "two", null, new JsonObject { ["metadata"] = "not this one" }) } };
                foreach (var (key, value) in obj)
                {
                    copy[key] = WithUnknownMembers(value?.DeepClone());
                }

                copy["zz-unknown-last"] = new JsonArray(new JsonObject { ["uid"] = "not this one" });
                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(item => WithUnknownMembers(item?.DeepClone()))]);
            default:
                return node?.DeepClone();
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Gatekeeper.sln not found above the test's directory");
    }
}
