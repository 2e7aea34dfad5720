using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Webhook.Tests;

/// <summary>What the API server does with one apply: mutating webhook, patch, validating webhook.</summary>
public sealed record ApplyResult(AdmissionReviewResponse Mutation, AdmissionReviewResponse? Validation, JsonObject Stored)
{
    public bool Admitted => Mutation.Allowed && Validation is { Allowed: true };

    /// <summary>The message kubectl prints, from whichever webhook denied.</summary>
    public string? Denial => !Mutation.Allowed ? Mutation.Message : Validation?.Message;

    public IReadOnlyList<string> Warnings => [.. Mutation.Warnings, .. Validation?.Warnings ?? []];

    public string? PlanStamp => Stored["spec"]?["template"]?["metadata"]?["annotations"]?["gatekeeper.dev/plan"]?.GetValue<string>();

    public string? TargetVersionStamp => Stored["spec"]?["template"]?["metadata"]?["annotations"]?["gatekeeper.dev/target-version"]?.GetValue<string>();
}

/// <summary>
/// One team's namespace for one test: the API server double holding its ConfigMap and Secret, a webhook server,
/// and a database of its own on the real server.
/// </summary>
public sealed class DeploymentScenario : IAsyncDisposable
{
    public const string Namespace = "team-a";
    public const string ConfigMapName = "shop-migrations";
    public const string SecretName = "shop-db";

    /// <summary>
    /// The request budget of a test whose subject is not the budget: the most the options allow (under the API server's
    /// 30 s), so a plan and dry-run that two loaded cores make slow is still decided, never denied as over budget. The
    /// chart's 8 s is what production needs; tests of the budget set their own and move the clock (<see cref="AdmissionClock"/>).
    /// </summary>
    public const string UnhurriedBudget = "00:00:29";

    private DeploymentScenario(KubeApiServerDouble api, TestWebhook webhook, TestDatabase? database)
    {
        Api = api;
        Webhook = webhook;
        Database = database;
    }

    public KubeApiServerDouble Api { get; }

    public TestWebhook Webhook { get; }

    public TestDatabase? Database { get; }

    public static async Task<DeploymentScenario> StartAsync(string? engine = "postgres", IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
    {
        var database = engine switch
        {
            "postgres" => await TestDatabase.CreatePostgresAsync(),
            "mysql" => await TestDatabase.CreateMySqlAsync(),
            _ => null,
        };
        var api = await KubeApiServerDouble.StartAsync();
        var all = new Dictionary<string, string?> { ["Webhook:WatchDeployments"] = "false", ["Webhook:RequestBudget"] = UnhurriedBudget };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var webhook = await TestWebhook.StartAsync(api, all, configureServices);
        var scenario = new DeploymentScenario(api, webhook, database);
        if (database is not null)
        {
            scenario.PutSecret(SecretName, new Dictionary<string, string> { ["url"] = database.Url });
        }

        return scenario;
    }

    public void PutMigrations(IDictionary<string, string> files, string name = ConfigMapName) => Api.Put(new V1ConfigMap
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Data = files,
    });

    public void PutSecret(string name, IDictionary<string, string> data) => Api.Put(new V1Secret
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Data = data.ToDictionary(pair => pair.Key, pair => Encoding.UTF8.GetBytes(pair.Value)),
    });

    public static Dictionary<string, string> OptIn(params (string Key, string Value)[] extra)
    {
        var annotations = new Dictionary<string, string>
        {
            ["gatekeeper.dev/migrations"] = ConfigMapName,
            ["gatekeeper.dev/database-secret"] = SecretName,
        };
        foreach (var (key, value) in extra)
        {
            annotations[key] = value;
        }

        return annotations;
    }

    public static JsonObject Deployment(IDictionary<string, string>? annotations, string image = "ghcr.io/example/shop:1.0.0") =>
        AdmissionReviewBodies.Deployment("shop", Namespace, annotations, image);

    /// <summary>Sends the object through both webhooks as the API server does, applying the mutation's patch in between.</summary>
    public async Task<ApplyResult> ApplyAsync(JsonObject deployment, JsonObject? stored = null, bool dryRun = false)
    {
        var operation = stored is null ? "CREATE" : "UPDATE";
        var mutation = await AdmissionReviewResponse.ReadAsync(
            await Webhook.PostAsync("/mutate/deployments", AdmissionReviewBodies.Review(operation, deployment, stored, dryRun)));
        if (!mutation.Allowed)
        {
            return new ApplyResult(mutation, null, deployment);
        }

        var mutated = mutation.Patch is null ? deployment : (JsonObject)JsonPatchApplier.Apply(deployment, mutation.Patch);
        var validation = await AdmissionReviewResponse.ReadAsync(
            await Webhook.PostAsync("/validate/deployments", AdmissionReviewBodies.Review(operation, mutated, stored, dryRun)));
        return new ApplyResult(mutation, validation, mutated);
    }

    public async ValueTask DisposeAsync()
    {
        await Webhook.DisposeAsync();
        await Api.DisposeAsync();
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}
