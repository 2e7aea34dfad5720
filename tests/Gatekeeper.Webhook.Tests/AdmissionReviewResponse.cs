using System.Text;
using System.Text.Json.Nodes;

namespace Gatekeeper.Webhook.Tests;

/// <summary>An AdmissionReview response as the API server reads it, with the patch decoded.</summary>
public sealed record AdmissionReviewResponse(string Uid, bool Allowed, int? Code, string? Message, IReadOnlyList<string> Warnings, byte[]? Patch, string? PatchType)
{
    public static async Task<AdmissionReviewResponse> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {text}");
        var review = JsonNode.Parse(text)!;
        Assert.Equal("admission.k8s.io/v1", review["apiVersion"]!.GetValue<string>());
        Assert.Equal("AdmissionReview", review["kind"]!.GetValue<string>());
        var body = review["response"]!;
        return new AdmissionReviewResponse(
            body["uid"]!.GetValue<string>(),
            body["allowed"]!.GetValue<bool>(),
            body["status"]?["code"]?.GetValue<int>(),
            body["status"]?["message"]?.GetValue<string>(),
            body["warnings"]?.AsArray().Select(w => w!.GetValue<string>()).ToList() ?? [],
            body["patch"] is { } patch ? Convert.FromBase64String(patch.GetValue<string>()) : null,
            body["patchType"]?.GetValue<string>());
    }

    public string PatchText => Patch is null ? string.Empty : Encoding.UTF8.GetString(Patch);

    /// <summary>The patch without its gatekeeper.dev/planning-id operation, which is random at every planned apply.</summary>
    public string StampPatchText => WithoutPlanningId(PatchText);

    /// <summary><paramref name="patch"/> (JSON Patch text) without the operation on gatekeeper.dev/planning-id.</summary>
    public static string WithoutPlanningId(string patch)
    {
        if (patch.Length == 0)
        {
            return patch;
        }

        var operations = JsonNode.Parse(patch)!.AsArray();
        foreach (var operation in operations.Where(o => o!["path"]!.GetValue<string>() == "/metadata/annotations/gatekeeper.dev~1planning-id").ToList())
        {
            operations.Remove(operation);
        }

        return operations.ToJsonString();
    }
}
