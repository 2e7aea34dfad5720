using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CsCheck;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Issue 7, fault test 6, end to end: mutated AdmissionReview bodies (see <see cref="AdmissionReviewMutations"/>) posted
/// over HTTPS to each admission path are answered with a 200 AdmissionReview for the same uid, a 400 or 413 with one
/// sentence, and never a 500 or a dropped connection.
/// Bodies that reach a handler are answered by it, not by the endpoint's catch of a handler failure. A failure prints the CsCheck seed and the mutation recipe.
/// </summary>
public sealed class WebhookFuzzTests : IAsyncLifetime
{
    // 200 bodies over a shared keep-alive connection pool: a few seconds on a loaded 2-core machine.
    private const long Bodies = 200;

    private static readonly string[] Paths = ["/mutate/pods", "/mutate/deployments", "/validate/deployments"];

    private KubeApiServerDouble api = null!;
    private TestWebhook webhook = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        webhook = await TestWebhook.StartAsync(api);
    }

    public async Task DisposeAsync()
    {
        await webhook.DisposeAsync();
        await api.DisposeAsync();
    }

    [Fact]
    public async Task Mutated_reviews_get_an_admission_review_or_a_one_sentence_refusal_and_never_a_500() =>
        await Gen.Select(Gen.Int[0, Paths.Length - 1], AdmissionReviewMutations.Bodies).SampleAsync(async (path, review) =>
        {
            using var content = new ByteArrayContent(review.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await webhook.Client.PostAsync(Paths[path], content);
            var text = await response.Content.ReadAsStringAsync();

            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    using (var answer = JsonDocument.Parse(text))
                    {
                        Assert.Equal("AdmissionReview", answer.RootElement.GetProperty("kind").GetString());
                        Assert.Equal(Uid(review.Body), answer.RootElement.GetProperty("response").GetProperty("uid").GetString());
                    }

                    // The handlers read malformed objects as values too: none of them threw and was caught by the endpoint.
                    Assert.DoesNotContain("failed while deciding", text, StringComparison.Ordinal);
                    break;
                case HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge:
                    Assert.EndsWith("\n", text, StringComparison.Ordinal);
                    AdmissionReviewMutations.AssertOneSentence(text[..^1]);
                    break;
                default:
                    Assert.Fail($"{Paths[path]} answered {(int)response.StatusCode}: {text}");
                    break;
            }
        }, iter: Bodies, threads: 2);

    [Fact]
    public async Task A_body_with_invalid_utf8_in_a_string_gets_400_not_500()
    {
        byte[] body = [.. "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u"u8, 0xff, .. "\"}}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await webhook.Client.PostAsync("/mutate/pods", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("the request body is not valid UTF-8.\n", await response.Content.ReadAsStringAsync());
    }

    /// <summary>The uid the body carries, when it is readable at all (a 200 answer implies it is).</summary>
    private static string? Uid(byte[] body)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 128 });
        return document.RootElement.GetProperty("request").GetProperty("uid").GetString();
    }
}
