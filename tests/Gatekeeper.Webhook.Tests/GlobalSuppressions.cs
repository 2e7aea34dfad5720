using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage(
    "Security",
    "CA5359:Do not disable certificate validation",
    Justification = "The helper only records which certificate the test webhook presents (rotation tests); trust in it is asserted by the tests themselves, and no request carries data.",
    Scope = "member",
    Target = "~M:Gatekeeper.Webhook.Tests.ServerTests.ServedCertificate(Gatekeeper.Webhook.Tests.TestWebhook,System.Boolean)~System.Threading.Tasks.Task{System.Security.Cryptography.X509Certificates.X509Certificate2}")]
