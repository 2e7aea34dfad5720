using Gatekeeper.Kubernetes.Sources;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class ClusterHostNamesTests
{
    [Theory]
    [InlineData("postgres", "postgres.shop.svc")]
    [InlineData("shop-db-rw", "shop-db-rw.shop.svc")]
    [InlineData("postgres.data", "postgres.data")]
    [InlineData("postgres.shop.svc", "postgres.shop.svc")]
    [InlineData("postgres.shop.svc.cluster.local", "postgres.shop.svc.cluster.local")]
    [InlineData("db.example.com", "db.example.com")]
    [InlineData("db.", "db.")]
    [InlineData("10.0.0.7", "10.0.0.7")]
    [InlineData("fd00::7", "fd00::7")]
    [InlineData("localhost", "localhost")]
    public void A_host_is_resolved_as_the_applications_pods_resolve_it(string host, string expected)
    {
        Assert.Equal(expected, ClusterHostNames.InNamespace(host, "shop"));
    }
}
