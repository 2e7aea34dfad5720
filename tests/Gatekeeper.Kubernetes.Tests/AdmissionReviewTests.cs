using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class AdmissionReviewTests
{
    private static AdmissionReadResult Read(string body, out JsonDocument? document) =>
        AdmissionReviewReader.Read(Encoding.UTF8.GetBytes(body), out document);

    [Fact]
    public void A_body_in_several_segments_reads_as_in_one_and_a_half_surrogate_escape_is_refused_even_across_a_seam()
    {
        // Kestrel hands a body of a few KB over in pieces; the surrogate check scans segments and their seams.
        var body = AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Deployment("shop", "team-a", new Dictionary<string, string> { ["note"] = "NOTE" }));
        var good = body.Replace("NOTE", "caf\\u00e9", StringComparison.Ordinal);
        var bad = body.Replace("NOTE", "caf\\ud800", StringComparison.Ordinal);
        var escape = Encoding.UTF8.GetBytes(bad).AsSpan().IndexOf("\\ud800"u8);
        Assert.True(escape > 0);

        foreach (var cut in new[] { 1, escape, escape + 1, escape + 2, escape + 3, escape + 4, Encoding.UTF8.GetByteCount(bad) - 1 })
        {
            var goodResult = AdmissionReviewReader.Read(Segments(good, cut), out var goodDocument);
            using (goodDocument)
            {
                Assert.Null(goodResult.Error);
                Assert.Equal("shop", goodResult.Request!.Name);
            }

            var badResult = AdmissionReviewReader.Read(Segments(bad, cut), out var badDocument);
            Assert.Null(badDocument);
            Assert.Equal("the request body holds a \\u escape that is half a surrogate pair, not a character.", badResult.Error);
        }
    }

    [Fact]
    public void A_character_split_between_segments_is_read_and_an_invalid_byte_at_a_segment_end_is_refused()
    {
        // Kestrel cuts a body of a few KB wherever its buffers end, also inside a multi-byte character.
        var body = AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Deployment("shop", "team-a", new Dictionary<string, string> { ["note"] = "NOTE" }))
            .Replace("NOTE", "caf\u00e9 \u65e5\u672c", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(body);
        var multiByte = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("é"));
        Assert.True(multiByte > 0);
        var broken = (byte[])bytes.Clone();
        broken[multiByte] = 0xff;

        foreach (var cut in new[] { multiByte + 1, multiByte + 2, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("日")) + 1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("日")) + 2 })
        {
            var result = AdmissionReviewReader.Read(Segments(bytes, cut), out var document);
            using (document)
            {
                Assert.True(result.Error is null, $"cut at {cut}: {result.Error}");
                Assert.Equal("shop", result.Request!.Name);
            }
        }

        foreach (var cut in new[] { multiByte, multiByte + 1, multiByte + 2 })
        {
            var result = AdmissionReviewReader.Read(Segments(broken, cut), out var document);
            Assert.Null(document);
            Assert.Equal("the request body is not valid UTF-8.", result.Error);
        }
    }

    /// <summary>The body as a sequence of segments cut at <paramref name="cut"/> and then every 7 bytes after it.</summary>
    private static ReadOnlySequence<byte> Segments(string body, int cut) => Segments(Encoding.UTF8.GetBytes(body), cut);

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int cut) => SegmentedBytes.Of(bytes, cut, 7);

    [Fact]
    public void Reader_takes_an_update_review_as_the_api_server_sends_it()
    {
        var old = AdmissionReviewBodies.Deployment("shop", "team-a", new Dictionary<string, string> { ["gatekeeper.dev/migrations"] = "m" });
        var body = AdmissionReviewBodies.Review("UPDATE", AdmissionReviewBodies.Deployment("shop", "team-a"), old, dryRun: true, uid: "705ab4f5-6393-11e8-b7cc-42010a800002");

        var result = Read(body, out var document);
        using var _ = document;

        Assert.Null(result.Error);
        var request = result.Request!;
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", request.Uid);
        Assert.Equal(new GroupVersionKind("apps", "v1", "Deployment"), request.Kind);
        Assert.Equal(new GroupVersionResource("apps", "v1", "deployments"), request.Resource);
        Assert.Equal(AdmissionOperation.Update, request.Operation);
        Assert.Equal("shop", request.Name);
        Assert.Equal("team-a", request.Namespace);
        Assert.True(request.DryRun);
        Assert.Equal("kubernetes-admin", request.UserInfo.Username);
        Assert.Equal(["system:masters", "system:authenticated"], request.UserInfo.Groups);
        Assert.Equal("Deployment", request.Object!.Value.GetProperty("kind").GetString());
        Assert.Equal("m", request.OldObject!.Value.GetProperty("metadata").GetProperty("annotations").GetProperty("gatekeeper.dev/migrations").GetString());
        Assert.Equal("UpdateOptions", request.Options!.Value.GetProperty("kind").GetString());
    }

    [Fact]
    public void Reader_takes_a_core_group_pod_create_without_old_object()
    {
        var body = AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", null));

        var result = Read(body, out var document);
        using var _ = document;

        Assert.Null(result.Error);
        Assert.Equal(new GroupVersionKind("", "v1", "Pod"), result.Request!.Kind);
        Assert.Null(result.Request.OldObject);
        Assert.False(result.Request.DryRun);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": ", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "", "not valid JSON" },
        { """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}""", "apiVersion is \"admission.k8s.io/v1beta1\"" },
        { """{"kind":"AdmissionReview","request":{}}""", "apiVersion is missing" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"Deployment","request":{}}""", "kind is \"Deployment\"" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "no request object" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod","version":"v1"}}}""", "request.uid is missing" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}}""", "request.uid is missing" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","resource":{"resource":"pods","version":"v1"},"operation":"CREATE","userInfo":{}}}""", "request.kind is missing" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"resource":{"resource":"pods","version":"v1"},"operation":"PATCH","userInfo":{}}}""", "request.operation is \"PATCH\"" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"resource":{"resource":"pods","version":"v1"},"operation":"CREATE"}}""", "request.userInfo is missing" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"resource":{"resource":"pods","version":"v1"},"operation":"CREATE","userInfo":{},"object":"pod"}}""", "request.object is not an object" },
        { """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"resource":{"resource":"pods","version":"v1"},"operation":"CREATE","userInfo":{},"dryRun":"yes"}}""", "request.dryRun is not a boolean" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void Reader_refuses_bodies_the_api_server_never_sends_with_one_sentence(string body, string expected)
    {
        var result = Read(body, out var document);
        document?.Dispose();

        Assert.Null(result.Request);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.EndsWith(".", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', result.Error!);
    }

    [Fact]
    public void Reader_refuses_a_deeply_nested_body_instead_of_recursing_without_bound()
    {
        var body = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":""" + new string('[', 10_000) + new string(']', 10_000) + "}";

        var result = Read(body, out var document);
        document?.Dispose();

        Assert.Contains("not valid JSON", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_echoes_the_uid_and_encodes_the_patch_in_base64_with_its_type()
    {
        var patch = new JsonPatchBuilder().Add("abc", "spec", "template", "metadata", "annotations", "gatekeeper.dev/plan").Build();
        var buffer = new ArrayBufferWriter<byte>();

        AdmissionReviewWriter.Write(buffer, AdmissionResponse.Allow("uid-1", ["first warning", "second"], patch));

        var json = JsonNode.Parse(buffer.WrittenSpan)!;
        Assert.Equal("admission.k8s.io/v1", json["apiVersion"]!.GetValue<string>());
        Assert.Equal("AdmissionReview", json["kind"]!.GetValue<string>());
        var response = json["response"]!;
        Assert.Equal("uid-1", response["uid"]!.GetValue<string>());
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.Equal("JSONPatch", response["patchType"]!.GetValue<string>());
        Assert.Equal(["first warning", "second"], response["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        Assert.Null(response["status"]);
        var decoded = Convert.FromBase64String(response["patch"]!.GetValue<string>());
        Assert.Equal(
            """[{"op":"add","path":"/spec/template/metadata/annotations/gatekeeper.dev~1plan","value":"abc"}]""",
            Encoding.UTF8.GetString(decoded));
    }

    // The pod webhook's answer is written from prebuilt pieces, and the end of a patched answer (the patch in base64) is kept
    // per patch instead of encoded per answer: whatever patches come, in whatever order, more of them than are kept, and a
    // caller's buffer changed in place between two answers, each answer is byte for byte the one Write writes.
    [Fact]
    public void An_allowed_answer_from_prebuilt_pieces_is_the_one_the_writer_writes_for_every_patch_however_many_and_however_reused()
    {
        // Patches of one length, so that only their bytes tell them apart, and more of them than the writer keeps.
        var patches = Enumerable.Range(0, 7).Select(i => Encoding.UTF8.GetBytes($$"""[{"op":"add","path":"/spec/a{{i}}","value":1}]""")).ToList();
        var reused = patches[0].ToArray();
        var order = new List<byte[]>();
        for (var round = 0; round < 3; round++)
        {
            order.AddRange(patches);
            order.Add(patches[1]);
            order.Add(reused);
        }

        foreach (var (patch, index) in order.Select((patch, index) => (patch, index)))
        {
            if (ReferenceEquals(patch, reused))
            {
                // The same buffer, holding another patch each time.
                reused[^3] = (byte)('1' + (index % 9));
            }

            var uid = $"0b6f6d0e-1111-4222-8333-{index:D12}";
            var expected = new ArrayBufferWriter<byte>();
            AdmissionReviewWriter.Write(expected, AdmissionResponse.Allow(uid, patch: patch.ToArray()));
            var actual = new ArrayBufferWriter<byte>();

            Assert.True(AdmissionReviewWriter.TryWriteAllowed(actual, uid, patch));
            Assert.Equal(Encoding.UTF8.GetString(expected.WrittenSpan), Encoding.UTF8.GetString(actual.WrittenSpan));
        }

        var plain = new ArrayBufferWriter<byte>();
        var plainExpected = new ArrayBufferWriter<byte>();
        Assert.True(AdmissionReviewWriter.TryWriteAllowed(plain, "uid-3", ReadOnlySpan<byte>.Empty));
        AdmissionReviewWriter.Write(plainExpected, AdmissionResponse.Allow("uid-3"));
        Assert.Equal(Encoding.UTF8.GetString(plainExpected.WrittenSpan), Encoding.UTF8.GetString(plain.WrittenSpan));
    }

    [Fact]
    public void Writer_puts_code_and_message_of_a_denial_in_status_and_no_patch()
    {
        var buffer = new ArrayBufferWriter<byte>();

        AdmissionReviewWriter.Write(buffer, AdmissionResponse.Deny("uid-2", 403, "plan rejected: \"quoted\"\nsecond line"));

        var response = JsonNode.Parse(buffer.WrittenSpan)!["response"]!;
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Equal(403, response["status"]!["code"]!.GetValue<int>());
        Assert.Equal("plan rejected: \"quoted\"\nsecond line", response["status"]!["message"]!.GetValue<string>());
        Assert.Null(response["patch"]);
        Assert.Null(response["patchType"]);
        Assert.Null(response["warnings"]);
    }

    [Theory]
    [InlineData("a/b", "a~1b")]
    [InlineData("a~b", "a~0b")]
    [InlineData("~/", "~0~1")]
    [InlineData("plain", "plain")]
    public void Json_pointer_segments_escape_tilde_and_slash(string segment, string escaped)
    {
        Assert.Equal(escaped, JsonPatchBuilder.EscapeSegment(segment));
    }
}
