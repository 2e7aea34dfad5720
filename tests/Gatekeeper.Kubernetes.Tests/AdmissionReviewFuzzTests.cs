using System.Text;
using CsCheck;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

/// <summary>
/// Issue 7, fault test 6: the AdmissionReview reader on mutated real bodies (see <see cref="AdmissionReviewMutations"/>)
/// returns a request or one sentence saying what is wrong, and never throws. A failure prints the CsCheck seed and the
/// mutation recipe; set <c>CsCheck_Seed</c> to replay it.
/// </summary>
public sealed class AdmissionReviewFuzzTests
{
    private const long Iterations = 600;

    [Fact]
    public void Reader_answers_every_mutated_review_with_a_request_or_one_sentence_and_never_throws() =>
        AdmissionReviewMutations.Bodies.Sample(review =>
        {
            var result = AdmissionReviewReader.Read(review.Body, out var document);
            using var _ = document;

            Assert.True(result.Request is null != (result.Error is null), "exactly one of request and error");
            if (result.Error is { } error)
            {
                AdmissionReviewMutations.AssertOneSentence(error);
            }
            else
            {
                Assert.NotNull(document);
                Assert.False(string.IsNullOrEmpty(result.Request!.Uid));
            }
        }, iter: Iterations);

    // What the fuzzing found: each of these threw from the reader (a 500 from the webhook), made a multi-line error, or
    // (the namespace) made the Deployment handlers fail on the API server's 400 instead of answering.
    [Theory]
    [InlineData("invalid UTF-8 in a string", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\xff\"}}", "not valid UTF-8")]
    [InlineData("a lone surrogate escape", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\\udfff\"}}", "half a surrogate pair")]
    [InlineData("newlines in a quoted value", "{\"apiVersion\":\"admission.k8s.io/v1\\nx\",\"kind\":\"AdmissionReview\"}", "apiVersion is \"admission.k8s.io/v1\\u000ax\"")]
    [InlineData("a namespace the API server would refuse", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Deployment\"},\"resource\":{\"group\":\"apps\",\"version\":\"v1\",\"resource\":\"deployments\"},\"operation\":\"CREATE\",\"userInfo\":{},\"namespace\":\"\\u0000nul\"}}", "request.namespace \"\\u0000nul\" is not a namespace name")]
    public void Reader_refuses_a_body_the_fuzzing_broke_it_with_in_one_sentence(string what, string body, string expected)
    {
        var bytes = Encoding.Latin1.GetBytes(body);

        var result = AdmissionReviewReader.Read(bytes, out var document);
        document?.Dispose();

        Assert.True(result.Error is not null, $"{what} was accepted");
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        AdmissionReviewMutations.AssertOneSentence(result.Error);
    }

    [Fact]
    public void Mutated_reviews_include_both_accepted_and_refused_bodies()
    {
        // The property above means little if every mutation is refused at the first byte, or none is.
        var outcomes = AdmissionReviewMutations.Bodies.Array[200].Single()
            .Select(review =>
            {
                var result = AdmissionReviewReader.Read(review.Body, out var document);
                document?.Dispose();
                return result.Request is not null;
            })
            .ToArray();

        Assert.Contains(true, outcomes);
        Assert.Contains(false, outcomes);
    }
}
