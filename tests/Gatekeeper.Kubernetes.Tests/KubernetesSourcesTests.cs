using System.Net;
using System.Text;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class KubernetesSourcesTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    private static V1ConfigMap ConfigMap(string ns, string name, IDictionary<string, string>? data = null, IDictionary<string, byte[]>? binary = null, IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Data = data,
        BinaryData = binary,
    };

    private static V1Secret Secret(string ns, string name, IDictionary<string, string> data) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Data = data.ToDictionary(pair => pair.Key, pair => Encoding.UTF8.GetBytes(pair.Value)),
    };

    [Fact]
    public async Task Loader_reads_data_and_binary_data_of_one_configmap_as_files()
    {
        var bom = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("CREATE TABLE b (id int);\r\n")).ToArray();
        api.Put(ConfigMap("team-a", "shop-migrations",
            new Dictionary<string, string> { ["V1__create_a.sql"] = "CREATE TABLE a (id int);\n" },
            new Dictionary<string, byte[]> { ["V2__create_b.sql"] = bom }));
        var loader = new ConfigMapMigrationLoader(api.CreateApi());

        var result = await loader.LoadAsync("team-a", ConfigMapSelection.Named("shop-migrations"), CancellationToken.None);

        Assert.Null(result.Problem);
        Assert.Equal("ConfigMap team-a/shop-migrations", result.Files!.Description);
        Assert.Equal(["V1__create_a.sql", "V2__create_b.sql"], result.Files.Files.Select(f => f.Name));
        Assert.Equal("CREATE TABLE a (id int);\n", Encoding.UTF8.GetString(result.Files.Files[0].Content.Span));
        Assert.Equal(bom, result.Files.Files[1].Content.ToArray());
        Assert.Single(api.RequestsTo("GET", "/api/v1/namespaces/team-a/configmaps/shop-migrations"));
    }

    [Fact]
    public async Task Loader_merges_a_comma_list_and_a_selector_into_one_directory_with_the_same_content_hash()
    {
        var labels = new Dictionary<string, string> { ["app"] = "shop" };
        api.Put(ConfigMap("team-a", "part-1", new Dictionary<string, string> { ["V1__a.sql"] = "select 1;" }, labels: labels));
        api.Put(ConfigMap("team-a", "part-2", new Dictionary<string, string> { ["V2__b.sql"] = "select 2;" }, labels: labels));
        api.Put(ConfigMap("team-a", "unrelated", new Dictionary<string, string> { ["V9__z.sql"] = "select 9;" }));
        var loader = new ConfigMapMigrationLoader(api.CreateApi());

        var named = await loader.LoadAsync("team-a", ConfigMapSelection.Named("part-1", "part-2"), CancellationToken.None);
        var selected = await loader.LoadAsync("team-a", ConfigMapSelection.Selected("app=shop"), CancellationToken.None);

        Assert.Equal(["V1__a.sql", "V2__b.sql"], named.Files!.Files.Select(f => f.Name));
        Assert.Equal(["V1__a.sql", "V2__b.sql"], selected.Files!.Files.Select(f => f.Name));
        Assert.Equal(named.Files.ContentHash, selected.Files.ContentHash);
        Assert.Equal("ConfigMaps team-a/part-1, team-a/part-2", selected.Files.Description);
    }

    [Fact]
    public async Task Content_hash_changes_when_a_file_changes()
    {
        api.Put(ConfigMap("team-a", "m", new Dictionary<string, string> { ["V1__a.sql"] = "select 1;" }));
        var loader = new ConfigMapMigrationLoader(api.CreateApi());
        var before = await loader.LoadAsync("team-a", ConfigMapSelection.Named("m"), CancellationToken.None);

        api.Put(ConfigMap("team-a", "m", new Dictionary<string, string> { ["V1__a.sql"] = "select 2;" }));
        var after = await loader.LoadAsync("team-a", ConfigMapSelection.Named("m"), CancellationToken.None);

        Assert.NotEqual(before.Files!.ContentHash, after.Files!.ContentHash);
    }

    [Fact]
    public async Task Loader_reports_a_missing_configmap_by_namespace_and_name()
    {
        var loader = new ConfigMapMigrationLoader(api.CreateApi());

        var result = await loader.LoadAsync("team-a", ConfigMapSelection.Named("nope"), CancellationToken.None);

        Assert.Null(result.Files);
        Assert.Equal("ConfigMap team-a/nope named by annotation gatekeeper.dev/migrations does not exist", result.Problem);
    }

    [Fact]
    public async Task Loader_reports_a_selector_that_matches_nothing_a_duplicate_file_and_an_empty_configmap()
    {
        api.Put(ConfigMap("team-a", "one", new Dictionary<string, string> { ["V1__a.sql"] = "select 1;" }));
        api.Put(ConfigMap("team-a", "two", new Dictionary<string, string> { ["V1__a.sql"] = "select 1;" }));
        api.Put(ConfigMap("team-a", "empty"));
        var loader = new ConfigMapMigrationLoader(api.CreateApi());

        var none = await loader.LoadAsync("team-a", ConfigMapSelection.Selected("app=ghost"), CancellationToken.None);
        var duplicate = await loader.LoadAsync("team-a", ConfigMapSelection.Named("one", "two"), CancellationToken.None);
        var empty = await loader.LoadAsync("team-a", ConfigMapSelection.Named("empty"), CancellationToken.None);

        Assert.Equal("no ConfigMap in namespace team-a matches selector app=ghost (annotation gatekeeper.dev/migrations)", none.Problem);
        Assert.Equal("file V1__a.sql is in both ConfigMap team-a/one and team-a/two; each migration file must appear once", duplicate.Problem);
        Assert.Equal("ConfigMap team-a/empty holds no migration files", empty.Problem);
    }

    [Fact]
    public async Task Loader_reports_forbidden_as_a_value_and_throws_on_an_api_outage()
    {
        var loader = new ConfigMapMigrationLoader(api.CreateApi());
        api.Fail("/api/v1/namespaces/locked/", HttpStatusCode.Forbidden);
        api.Fail("/api/v1/namespaces/broken/", HttpStatusCode.ServiceUnavailable);

        var forbidden = await loader.LoadAsync("locked", ConfigMapSelection.Named("m"), CancellationToken.None);

        Assert.Contains("forbidden", forbidden.Problem, StringComparison.Ordinal);
        await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => loader.LoadAsync("broken", ConfigMapSelection.Named("m"), CancellationToken.None));
    }

    [Theory]
    [InlineData("url", null)]
    [InlineData("uri", null)]
    [InlineData("dsn", "dsn")]
    public async Task Secret_reader_finds_the_url_under_url_then_uri_or_the_named_key(string key, string? annotatedKey)
    {
        api.Put(Secret("team-a", "shop-db", new Dictionary<string, string> { [key] = "postgres://app:s3cret@db:5432/shop\n", ["password"] = "s3cret" }));
        var reader = new DatabaseSecretReader(api.CreateApi());

        var result = await reader.ReadAsync("team-a", new SecretKeyReference("shop-db", annotatedKey), "gatekeeper.dev/database-secret", CancellationToken.None);

        Assert.Null(result.Problem);
        Assert.Equal("postgres://app:s3cret@db:5432/shop", result.Url!.Reveal());
        Assert.DoesNotContain("s3cret", result.Url.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secret_reader_names_the_secret_and_the_keys_it_tried_without_showing_any_value()
    {
        api.Put(Secret("team-a", "shop-db", new Dictionary<string, string> { ["password"] = "s3cret" }));
        var reader = new DatabaseSecretReader(api.CreateApi());

        var noDefault = await reader.ReadAsync("team-a", new SecretKeyReference("shop-db", null), "gatekeeper.dev/database-secret", CancellationToken.None);
        var noNamed = await reader.ReadAsync("team-a", new SecretKeyReference("shop-db", "dsn"), "gatekeeper.dev/plan-secret", CancellationToken.None);
        var missing = await reader.ReadAsync("team-a", new SecretKeyReference("ghost", null), "gatekeeper.dev/database-secret", CancellationToken.None);

        Assert.Equal("Secret team-a/shop-db has no non-empty key url or uri; name the key with gatekeeper.dev/database-secret: shop-db/<key>", noDefault.Problem);
        Assert.Equal("Secret team-a/shop-db has no non-empty key dsn (annotation gatekeeper.dev/plan-secret)", noNamed.Problem);
        Assert.Equal("Secret team-a/ghost named by annotation gatekeeper.dev/database-secret does not exist", missing.Problem);
        Assert.DoesNotContain("s3cret", noDefault.Problem + noNamed.Problem, StringComparison.Ordinal);
    }
}
