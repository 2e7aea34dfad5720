using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook;

/// <summary>
/// The serving certificate, read from PEM files and re-read when they change, so cert-manager's rotation takes
/// effect without a restart. A handshake looks at the files at most once per check interval (content compared,
/// because Secret volumes swap a symlink and keep old timestamps); a file-system event makes the next handshake
/// look at once. A half-written pair during rotation keeps the previous certificate until both files agree.
/// </summary>
public sealed class ReloadingServingCertificate : Certificates.IServingCertificate, IDisposable
{
    private readonly string certificateFile;
    private readonly string keyFile;
    private readonly TimeProvider timeProvider;
    private readonly TimeSpan checkInterval;
    private readonly ILogger logger;
    private readonly FileSystemWatcher? watcher;
    private readonly Lock gate = new();
    private X509Certificate2 current;
    private byte[] currentFingerprint;
    private long nextCheck;
    private volatile bool changed;

    public ReloadingServingCertificate(string certificateFile, string keyFile, TimeProvider timeProvider, TimeSpan checkInterval, ILogger<ReloadingServingCertificate> logger)
    {
        this.certificateFile = Path.GetFullPath(certificateFile);
        this.keyFile = Path.GetFullPath(keyFile);
        this.timeProvider = timeProvider;
        this.checkInterval = checkInterval;
        this.logger = logger;
        (current, currentFingerprint) = Load() ?? throw new ServingCertificateException(
            $"cannot load the serving certificate from {certificateFile} and {keyFile}: {lastError}");
        nextCheck = timeProvider.GetTimestamp() + Ticks(checkInterval);
        Log.ServingCertificateLoaded(logger, current.Subject, current.Thumbprint, current.NotAfter);

        var directory = Path.GetDirectoryName(this.certificateFile);
        if (directory is not null && Directory.Exists(directory))
        {
            watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime };
            watcher.Changed += (_, _) => changed = true;
            watcher.Created += (_, _) => changed = true;
            watcher.Renamed += (_, _) => changed = true;
            watcher.Deleted += (_, _) => changed = true;
            watcher.EnableRaisingEvents = true;
        }
    }

    private string? lastError;

    /// <summary>The certificate to present now; cheap unless a check is due.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = timeProvider.GetTimestamp();
            if (!changed && now < Volatile.Read(ref nextCheck))
            {
                return current;
            }

            lock (gate)
            {
                if (changed || now >= nextCheck)
                {
                    changed = false;
                    nextCheck = now + Ticks(checkInterval);
                    ReloadIfChanged();
                }

                return current;
            }
        }
    }

    public void Dispose()
    {
        watcher?.Dispose();
        current.Dispose();
    }

    private void ReloadIfChanged()
    {
        byte[] fingerprint;
        try
        {
            fingerprint = Fingerprint(File.ReadAllBytes(certificateFile), File.ReadAllBytes(keyFile));
        }
        catch (IOException e)
        {
            Log.ServingCertificateReloadFailed(logger, e.Message);
            return;
        }

        if (fingerprint.AsSpan().SequenceEqual(currentFingerprint))
        {
            return;
        }

        if (Load() is { } loaded)
        {
            var previous = current;
            (current, currentFingerprint) = loaded;
            Log.ServingCertificateLoaded(logger, current.Subject, current.Thumbprint, current.NotAfter);
            // Connections already established keep working: SslStream holds its own reference to the key.
            previous.Dispose();
        }
        else
        {
            Log.ServingCertificateReloadFailed(logger, lastError ?? "unknown error");
        }
    }

    private (X509Certificate2, byte[])? Load()
    {
        try
        {
            var certificatePem = File.ReadAllBytes(certificateFile);
            var keyPem = File.ReadAllBytes(keyFile);
            using var ephemeral = X509Certificate2.CreateFromPem(
                System.Text.Encoding.ASCII.GetString(certificatePem), System.Text.Encoding.ASCII.GetString(keyPem));
            // Re-import so the key is usable by SslStream on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            return (certificate, Fingerprint(certificatePem, keyPem));
        }
        catch (Exception e) when (e is IOException or CryptographicException or ArgumentException or UnauthorizedAccessException)
        {
            lastError = e.Message;
            return null;
        }
    }

    private static byte[] Fingerprint(byte[] certificate, byte[] key)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(certificate);
        hash.AppendData(key);
        return hash.GetHashAndReset();
    }

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
}

/// <summary>The serving certificate files cannot be used at start (at a later rotation the old certificate is kept instead).</summary>
public sealed class ServingCertificateException(string message) : Exception(message);
