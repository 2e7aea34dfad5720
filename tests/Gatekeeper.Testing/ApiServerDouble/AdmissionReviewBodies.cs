using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// AdmissionReview bodies shaped as the API server sends them (admission.k8s.io/v1): uid, kind, resource,
/// requestKind/requestResource, name, namespace, operation, userInfo with groups and extra, the object with
/// the defaults the API server has filled in by then, oldObject on UPDATE, options, dryRun.
/// </summary>
public static class AdmissionReviewBodies
{
    public static JsonObject Deployment(string name, string ns, IDictionary<string, string>? annotations = null, string image = "ghcr.io/example/shop:1.0.0", IDictionary<string, string>? templateAnnotations = null)
    {
        var deployment = new JsonObject
        {
            ["kind"] = "Deployment",
            ["apiVersion"] = "apps/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["creationTimestamp"] = null,
                ["labels"] = new JsonObject { ["app"] = name },
                ["annotations"] = ToObject(annotations),
                ["managedFields"] = new JsonArray(new JsonObject
                {
                    ["manager"] = "kubectl-client-side-apply",
                    ["operation"] = "Update",
                    ["apiVersion"] = "apps/v1",
                    ["fieldsType"] = "FieldsV1",
                    ["fieldsV1"] = new JsonObject { ["f:metadata"] = new JsonObject { ["f:labels"] = new JsonObject { ["."] = new JsonObject() } } },
                }),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 2,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject
                    {
                        ["creationTimestamp"] = null,
                        ["labels"] = new JsonObject { ["app"] = name },
                        ["annotations"] = templateAnnotations is null ? null : ToObject(templateAnnotations),
                    },
                    ["spec"] = new JsonObject
                    {
                        ["containers"] = new JsonArray(new JsonObject
                        {
                            ["name"] = "app",
                            ["image"] = image,
                            ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080, ["protocol"] = "TCP" }),
                            ["resources"] = new JsonObject(),
                            ["terminationMessagePath"] = "/dev/termination-log",
                            ["terminationMessagePolicy"] = "File",
                            ["imagePullPolicy"] = "IfNotPresent",
                        }),
                        ["restartPolicy"] = "Always",
                        ["terminationGracePeriodSeconds"] = 30,
                        ["dnsPolicy"] = "ClusterFirst",
                        ["securityContext"] = new JsonObject(),
                        ["schedulerName"] = "default-scheduler",
                    },
                },
                ["strategy"] = new JsonObject
                {
                    ["type"] = "RollingUpdate",
                    ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = "25%", ["maxSurge"] = "25%" },
                },
                ["revisionHistoryLimit"] = 10,
                ["progressDeadlineSeconds"] = 600,
            },
            ["status"] = new JsonObject(),
        };
        if (templateAnnotations is null)
        {
            ((JsonObject)deployment["spec"]!["template"]!["metadata"]!).Remove("annotations");
        }

        return deployment;
    }

    /// <summary>A pod as the ReplicaSet controller creates it: template annotations copied, generateName set.</summary>
    public static JsonObject Pod(string ns, string owner, IDictionary<string, string>? annotations, JsonArray? schedulingGates = null)
    {
        var spec = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "ghcr.io/example/shop:1.0.0", ["resources"] = new JsonObject() }),
            ["restartPolicy"] = "Always",
            ["serviceAccountName"] = "default",
            ["schedulerName"] = "default-scheduler",
            ["priority"] = 0,
            ["enableServiceLinks"] = true,
            ["preemptionPolicy"] = "PreemptLowerPriority",
        };
        if (schedulingGates is not null)
        {
            spec["schedulingGates"] = schedulingGates;
        }

        return new JsonObject
        {
            ["kind"] = "Pod",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject
            {
                ["generateName"] = owner + "-5d4f8c7b9-",
                ["namespace"] = ns,
                ["creationTimestamp"] = null,
                ["labels"] = new JsonObject { ["app"] = owner, ["pod-template-hash"] = "5d4f8c7b9" },
                ["annotations"] = ToObject(annotations),
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "ReplicaSet",
                    ["name"] = owner + "-5d4f8c7b9",
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject(),
        };
    }

    public static string Review(
        string operation,
        JsonObject obj,
        JsonObject? oldObject = null,
        bool dryRun = false,
        string? uid = null,
        string username = "kubernetes-admin")
    {
        var kind = obj["kind"]!.GetValue<string>();
        var (group, version, resource) = kind switch
        {
            "Deployment" => ("apps", "v1", "deployments"),
            "Pod" => ("", "v1", "pods"),
            _ => throw new ArgumentException($"no resource for {kind}"),
        };
        var metadata = obj["metadata"]!;
        var request = new JsonObject
        {
            ["uid"] = uid ?? Guid.NewGuid().ToString(),
            ["kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
            ["resource"] = new JsonObject { ["group"] = group, ["version"] = version, ["resource"] = resource },
            ["requestKind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
            ["requestResource"] = new JsonObject { ["group"] = group, ["version"] = version, ["resource"] = resource },
            ["name"] = metadata["name"]?.GetValue<string>() ?? string.Empty,
            ["namespace"] = metadata["namespace"]!.GetValue<string>(),
            ["operation"] = operation,
            ["userInfo"] = new JsonObject
            {
                ["username"] = username,
                ["uid"] = "aws-iam-authenticator:123456789012:AROAEXAMPLE",
                ["groups"] = new JsonArray("system:masters", "system:authenticated"),
                ["extra"] = new JsonObject { ["authentication.kubernetes.io/credential-id"] = new JsonArray("X509SHA256=4d2f") },
            },
            ["object"] = obj.DeepClone(),
            ["oldObject"] = oldObject?.DeepClone(),
            ["dryRun"] = dryRun,
            ["options"] = operation switch
            {
                "CREATE" => new JsonObject { ["kind"] = "CreateOptions", ["apiVersion"] = "meta.k8s.io/v1", ["fieldManager"] = "kubectl-client-side-apply", ["fieldValidation"] = "Strict" },
                "UPDATE" => new JsonObject { ["kind"] = "UpdateOptions", ["apiVersion"] = "meta.k8s.io/v1", ["fieldManager"] = "kubectl-client-side-apply", ["fieldValidation"] = "Strict" },
                _ => null,
            },
        };
        if (dryRun)
        {
            ((JsonObject)request["options"]!)["dryRun"] = new JsonArray("All");
        }

        var review = new JsonObject
        {
            ["kind"] = "AdmissionReview",
            ["apiVersion"] = "admission.k8s.io/v1",
            ["request"] = request,
        };
        return review.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    private static JsonObject? ToObject(IDictionary<string, string>? map)
    {
        if (map is null)
        {
            return null;
        }

        var obj = new JsonObject();
        foreach (var (key, value) in map)
        {
            obj[key] = value;
        }

        return obj;
    }
}
