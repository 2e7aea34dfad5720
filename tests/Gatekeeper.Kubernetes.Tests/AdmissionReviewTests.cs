using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class AdmissionReviewTests
{
    private static AdmissionReadResult Read(string body, out JsonDocument? document) =>
        AdmissionReviewReader.Read(Encoding.UTF8.GetBytes(body), out document);

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
