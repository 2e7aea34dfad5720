using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "Build() disposes the Utf8JsonWriter; it writes into an ArrayBufferWriter that holds no unmanaged or pooled resource, so a builder dropped before Build() leaks nothing.",
    Scope = "type",
    Target = "~T:Gatekeeper.Kubernetes.Admission.JsonPatchBuilder")]
