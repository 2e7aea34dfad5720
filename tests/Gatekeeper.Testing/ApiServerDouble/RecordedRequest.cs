namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>One request the double received, with its body (Events, patches) for assertions.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body)
{
    /// <summary>The <see cref="KubeApiServerDouble.ClientHeader"/> the request carried, if any.</summary>
    public string? Client { get; init; }

    public string? ContentType { get; init; }

    /// <summary>Its place in the order of arrival (0 for the first request), to tell what happened before what.</summary>
    public long Sequence { get; init; }
}
