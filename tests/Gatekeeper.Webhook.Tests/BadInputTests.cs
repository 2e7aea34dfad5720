using System.Net;
using System.Text;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Webhook.Tests;

public sealed class BadInputTests : IAsyncLifetime
{
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

    public static TheoryData<string, string, string> Bodies => new()
    {
        { "/mutate/pods", "{\"apiVersion\":\"admission.k8s.io/v1\",", "not valid JSON" },
        { "/mutate/pods", "not json at all", "not valid JSON" },
        { "/mutate/pods", """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}""", "apiVersion is \"admission.k8s.io/v1beta1\"" },
        { "/mutate/pods", """{"apiVersion":"admission.k8s.io/v1","kind":"ConversionReview","request":{"uid":"u"}}""", "kind is \"ConversionReview\"" },
        { "/mutate/pods", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod","version":"v1"}}}""", "request.uid is missing" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_body_that_is_not_an_admission_review_gets_400_with_one_sentence(string path, string body, string expected)
    {
        var response = await webhook.PostAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = (await response.Content.ReadAsStringAsync()).TrimEnd('\n');
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text);
        Assert.EndsWith(".", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ten_megabyte_body_gets_413()
    {
        var body = AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["padding"] = new string('x', 10 * 1024 * 1024) }));

        var response = await webhook.PostAsync("/mutate/pods", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("above the limit", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ten_megabyte_body_without_content_length_gets_413_too()
    {
        var content = new StreamContent(new MemoryStream(new byte[10 * 1024 * 1024]));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mutate/pods") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await webhook.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than the limit", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_requests_are_counted_by_decision()
    {
        await webhook.PostAsync("/mutate/pods", "{");

        Assert.Contains("gatekeeper_admission_requests_total{webhook=\"mutate-pods\",decision=\"invalid\"} 1", webhook.MetricsText(), StringComparison.Ordinal);
    }
}
