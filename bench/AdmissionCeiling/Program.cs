using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

// The fastest an ASP.NET Core admission webhook can be on this machine: Kestrel with Gatekeeper's listener settings
// (HTTPS only, HTTP/1.1 and HTTP/2, no Server header, the same certificate), which reads the whole request body and
// answers every POST with one fixed AdmissionReview, with no routing, parsing or decision.
// Usage: AdmissionCeiling PORT TLS_CERT_FILE TLS_KEY_FILE RESPONSE_FILE
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: AdmissionCeiling PORT TLS_CERT_FILE TLS_KEY_FILE RESPONSE_FILE");
    return 2;
}

var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
// Re-imported as PKCS#12, as Gatekeeper's ReloadingServingCertificate does, so SslStream gets the same kind of key.
using var pem = X509Certificate2.CreateFromPemFile(args[1], args[2]);
using var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
var response = File.ReadAllBytes(args[3]);

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, port, listen =>
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => certificate);
    });
});

var app = builder.Build();
app.Run(async context =>
{
    if (!HttpMethods.IsPost(context.Request.Method))
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("ok\n", context.RequestAborted);
        return;
    }

    var reader = context.Request.BodyReader;
    while (true)
    {
        var read = await reader.ReadAsync(context.RequestAborted);
        reader.AdvanceTo(read.Buffer.End);
        if (read.IsCompleted || read.IsCanceled)
        {
            break;
        }
    }

    context.Response.StatusCode = StatusCodes.Status200OK;
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = response.Length;
    await context.Response.Body.WriteAsync(response, context.RequestAborted);
});
await app.RunAsync();
return 0;
