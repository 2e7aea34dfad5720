using System.Net;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// A failed API call as the API server answers it: an HTTP status and a <c>Status</c> body whose message, reason and
/// details read as kube-apiserver writes them (the wording clients and people match on).
/// </summary>
public sealed class ApiStatusException(HttpStatusCode code, string reason, string message, JsonObject? details = null)
    : Exception(message)
{
    public HttpStatusCode Code { get; } = code;

    public string Reason { get; } = reason;

    public JsonObject Body() => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = Message,
        ["reason"] = Reason,
        ["details"] = details?.DeepClone(),
        ["code"] = (int)Code,
    };

    /// <summary><c>pods</c> for the core group, <c>deployments.apps</c> otherwise: how messages name a resource.</summary>
    public static string Qualified(ApiResource resource) => resource.Group.Length == 0 ? resource.Plural : $"{resource.Plural}.{resource.Group}";

    private static JsonObject Details(ApiResource resource, string? name) => new()
    {
        ["name"] = name,
        ["group"] = resource.Group.Length == 0 ? null : resource.Group,
        ["kind"] = resource.Plural,
    };

    public static ApiStatusException NotFound(ApiResource resource, string name) =>
        new(HttpStatusCode.NotFound, "NotFound", $"{Qualified(resource)} \"{name}\" not found", Details(resource, name));

    public static ApiStatusException AlreadyExists(ApiResource resource, string name) =>
        new(HttpStatusCode.Conflict, "AlreadyExists", $"{Qualified(resource)} \"{name}\" already exists", Details(resource, name));

    public static ApiStatusException Conflict(ApiResource resource, string name, string why) =>
        new(HttpStatusCode.Conflict, "Conflict", $"Operation cannot be fulfilled on {Qualified(resource)} \"{name}\": {why}", Details(resource, name));

    public static ApiStatusException StaleResourceVersion(ApiResource resource, string name) =>
        Conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again");

    /// <summary>422 with one cause per field error, as the registry's validation reports them.</summary>
    public static ApiStatusException Invalid(ApiResource resource, string? name, IReadOnlyList<FieldError> errors)
    {
        var kind = resource.Group.Length == 0 ? resource.Kind : $"{resource.Kind}.{resource.Group}";
        var details = new JsonObject
        {
            ["name"] = name,
            ["group"] = resource.Group.Length == 0 ? null : resource.Group,
            ["kind"] = resource.Kind,
            ["causes"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject
            {
                ["reason"] = e.Type,
                ["message"] = e.Detail,
                ["field"] = e.Field,
            }).ToArray()),
        };
        var list = string.Join(", ", errors.Select(e => e.ToString()));
        var message = errors.Count == 1 ? $"{kind} \"{name}\" is invalid: {list}" : $"{kind} \"{name}\" is invalid: [{list}]";
        return new ApiStatusException(HttpStatusCode.UnprocessableEntity, "Invalid", message, details);
    }

    public static ApiStatusException Forbidden(ApiResource? resource, string? name, string message)
    {
        var what = resource is null ? "forbidden" : name is null ? $"{Qualified(resource)} is forbidden" : $"{Qualified(resource)} \"{name}\" is forbidden";
        return new ApiStatusException(HttpStatusCode.Forbidden, "Forbidden", $"{what}: {message}", resource is null ? null : Details(resource, name));
    }

    public static ApiStatusException BadRequest(string message) => new(HttpStatusCode.BadRequest, "BadRequest", message);

    public static ApiStatusException Unauthorized() => new(HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");

    public static ApiStatusException Internal(string message) =>
        new(HttpStatusCode.InternalServerError, "InternalError", $"Internal error occurred: {message}", new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = message }) });

    public static ApiStatusException Gone(string message) => new(HttpStatusCode.Gone, "Expired", message);

    public static ApiStatusException MethodNotSupported(ApiResource resource, string verb) =>
        new(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"{verb} is not supported on resources of kind \"{Qualified(resource)}\"");
}

/// <summary>One field error as <c>field.ErrorList</c> prints it: <c>spec.x: Invalid value: "v": detail</c>.</summary>
public sealed record FieldError(string Field, string Type, string Detail, string? Value = null)
{
    public static FieldError Invalid(string field, string? value, string detail) => new(field, "FieldValueInvalid", detail, value);

    public static FieldError Required(string field, string detail) => new(field, "FieldValueRequired", detail);

    public static FieldError Forbidden(string field, string detail) => new(field, "FieldValueForbidden", detail);

    public static FieldError TooLong(string field, string? value, int max) => new(field, "FieldValueTooLong", $"must have at most {max} bytes", value);

    public static FieldError NotSupported(string field, string? value, IEnumerable<string> supported) =>
        new(field, "FieldValueNotSupported", "supported values: " + string.Join(", ", supported.Select(s => $"\"{s}\"")), value);

    public override string ToString() => Type switch
    {
        "FieldValueInvalid" => $"{Field}: Invalid value: {Quote(Value)}: {Detail}",
        "FieldValueRequired" => $"{Field}: Required value: {Detail}",
        "FieldValueForbidden" => $"{Field}: Forbidden: {Detail}",
        "FieldValueTooLong" => $"{Field}: Too long: {Detail}",
        "FieldValueNotSupported" => $"{Field}: Unsupported value: {Quote(Value)}: {Detail}",
        _ => $"{Field}: {Detail}",
    };

    private static string Quote(string? value) => value is null ? "null" : $"\"{value}\"";
}
