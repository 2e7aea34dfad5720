using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using k8s;
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
        var (mutation, mutated) = await MutateAsync(deployment, stored, dryRun);
        if (!mutation.Allowed)
        {
            return new ApplyResult(mutation, null, deployment);
        }

        var validation = await ValidateAsync(mutated, stored, dryRun);
        return new ApplyResult(mutation, validation, mutated);
    }

    /// <summary>The mutating call alone, and the object with its patch applied.</summary>
    public async Task<(AdmissionReviewResponse Response, JsonObject Mutated)> MutateAsync(JsonObject deployment, JsonObject? stored = null, bool dryRun = false)
    {
        var mutation = await AdmissionReviewResponse.ReadAsync(
            await Webhook.PostAsync("/mutate/deployments", AdmissionReviewBodies.Review(stored is null ? "CREATE" : "UPDATE", deployment, stored, dryRun)));
        return (mutation, mutation.Patch is null ? deployment : (JsonObject)JsonPatchApplier.Apply(deployment, mutation.Patch));
    }

    /// <summary>The validating call alone (a request of its own, as the API server sends it).</summary>
    public async Task<AdmissionReviewResponse> ValidateAsync(JsonObject deployment, JsonObject? stored = null, bool dryRun = false) =>
        await AdmissionReviewResponse.ReadAsync(
            await Webhook.PostAsync("/validate/deployments", AdmissionReviewBodies.Review(stored is null ? "CREATE" : "UPDATE", deployment, stored, dryRun)));

    /// <summary>
    /// Launches the migration Job with the controller's own Job client against the API double, then runs the Job's
    /// container arguments as the pod would, with its mounts (the ConfigMap directory, the Secret files) made local;
    /// <paramref name="url"/> is the database the Job reaches (default: this test's own).
    /// </summary>
    public async Task<(int ExitCode, string Output, V1Job Job)> RunMigrationJobAsync(ApplyResult admitted, string configMap = ConfigMapName, string? url = null, string? devUrl = null)
    {
        var deployment = KubernetesJson.Deserialize<V1Deployment>(admitted.Stored.ToJsonString());
        deployment.Metadata.Uid ??= "0f7c3c5e-1f0b-4a0e-9b59-5b4f5f7a1c01";
        var client = new MigrationJobClient(Api.CreateApi(), new MigrationJobSettings { Image = "gatekeeper:test" }, new MigrationJobSigner(MigrationJobSigner.NewKey()));
        var launch = await client.LaunchAsync(DeploymentFacts.From(deployment), CancellationToken.None);
        Assert.True(launch.Result == LaunchResult.Created, launch.Problem);
        var job = launch.Job!;

        var root = Directory.CreateTempSubdirectory("gk-job-").FullName;
        try
        {
            var source = Api.Get<V1ConfigMap>(Namespace, configMap)!;
            var migrations = Directory.CreateDirectory(Path.Combine(root, "migrations")).FullName;
            foreach (var (name, text) in source.Data)
            {
                await File.WriteAllTextAsync(Path.Combine(migrations, name), text);
            }

            var urlFile = Path.Combine(root, "url");
            await File.WriteAllTextAsync(urlFile, url ?? Database!.Url);
            var devFile = Path.Combine(root, "dev-url");
            if (devUrl is not null)
            {
                await File.WriteAllTextAsync(devFile, devUrl);
            }

            var arguments = job.Spec.Template.Spec.Containers[0].Args.Select(a => a switch
            {
                MigrationJobBuilder.MigrationsDirectory => migrations,
                MigrationJobBuilder.DatabaseUrlFile => urlFile,
                MigrationJobBuilder.DevDatabaseUrlFile => devFile,
                _ => a,
            }).ToList();
            arguments.AddRange(["--termination-log", Path.Combine(root, "termination-log")]);
            var output = new StringWriter();
            var exitCode = await Cli.GatekeeperCommandLine.InvokeAsync([.. arguments], output, output);
            OutputCapture.Record(OutputCapture.CliOutput, "migration job", $"exit {exitCode}\n{output}");
            return (exitCode, output.ToString(), job);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
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
