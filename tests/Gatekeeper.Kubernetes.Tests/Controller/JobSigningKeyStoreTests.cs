using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class JobSigningKeyStoreTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task Replicas_starting_together_make_one_key_and_all_sign_alike()
    {
        var stores = Enumerable.Range(0, 4).Select(i => new JobSigningKeyStore(api.CreateApi($"replica-{i}"))).ToList();

        var signers = await Task.WhenAll(stores.Select(store => store.LoadOrCreateAsync("gatekeeper-system", "gatekeeper-job-signing", CancellationToken.None)));

        var secret = Assert.Single(api.List<V1Secret>("gatekeeper-system"));
        Assert.Equal(32, secret.Data[JobSigningKeyStore.KeyName].Length);
        Assert.Single(signers.Select(s => s.Sign("shop", "uid", "plan", "job")).Distinct());
        Assert.Equal(signers[0].Sign("shop", "uid", "plan", "job"), new MigrationJobSigner(secret.Data[JobSigningKeyStore.KeyName]).Sign("shop", "uid", "plan", "job"));
    }

    [Fact]
    public async Task A_secret_without_a_usable_key_is_one_clear_sentence()
    {
        api.Put(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "gatekeeper-job-signing", NamespaceProperty = "gatekeeper-system" },
            Data = new Dictionary<string, byte[]> { [JobSigningKeyStore.KeyName] = [1, 2, 3] },
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new JobSigningKeyStore(api.CreateApi()).LoadOrCreateAsync("gatekeeper-system", "gatekeeper-job-signing", CancellationToken.None));

        Assert.Equal("Secret gatekeeper-system/gatekeeper-job-signing has no key job-signing-key of at least 32 bytes; delete it and Gatekeeper creates a new one", error.Message);
    }

    [Fact]
    public void A_signature_covers_the_namespace_the_deployment_the_plan_and_the_job()
    {
        var signer = ControllerHarness.Signer;
        var signature = signer.Sign("shop", "uid-1", "plan", "job");

        Assert.Matches("^[0-9a-f]{40}$", signature);
        Assert.NotEqual(signature, signer.Sign("billing", "uid-1", "plan", "job"));
        Assert.NotEqual(signature, signer.Sign("shop", "uid-2", "plan", "job"));
        Assert.NotEqual(signature, signer.Sign("shop", "uid-1", "plan2", "job"));
        Assert.NotEqual(signature, signer.Sign("shop", "uid-1", "plan", "job2"));
        Assert.NotEqual(signature, new MigrationJobSigner(new byte[32]).Sign("shop", "uid-1", "plan", "job"));
    }
}
