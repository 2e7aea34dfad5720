using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>The server family a URL points at; MariaDB speaks the MySQL protocol and dialect.</summary>
public enum DatabaseEngine
{
    Postgres,
    MySql,
}

/// <summary>
/// A parsed database URL (<c>postgres://</c>, <c>postgresql://</c>, <c>mysql://</c>, <c>mariadb://</c>). It keeps the
/// password to build connection strings but never prints it: <see cref="ToString"/> is <see cref="Redacted"/>, and
/// every parse error is a sentence about the URL's shape that quotes no part of the credentials.
/// </summary>
public sealed class DatabaseUrl
{
    // Options that Go drivers and other tools put in their URLs; they mean nothing to Gatekeeper, so they are accepted
    // (a URL copied from dbmate or golang-migrate configuration works) and ignored.
    private static readonly string[] IgnoredOptions = ["parseTime", "charset", "collation", "loc", "multiStatements", "x-migrations-table", "x-multi-statement", "timezone", "TimeZone"];

    private static readonly string[] SupportedOptions = ["sslmode", "connect_timeout", "application_name", "search_path", "sslrootcert"];

    private readonly string? _password;

    private DatabaseUrl(DatabaseEngine engine, string scheme, string? user, string? password, string host, int port, string database, IReadOnlyDictionary<string, string> options)
    {
        Engine = engine;
        Scheme = scheme;
        User = user;
        _password = password;
        Host = host;
        Port = port;
        Database = database;
        Options = options;
    }

    public DatabaseEngine Engine { get; }

    /// <summary>The scheme as written (lower-cased): <c>postgres</c>, <c>postgresql</c>, <c>mysql</c> or <c>mariadb</c>.</summary>
    public string Scheme { get; }

    public string? User { get; }

    public bool HasPassword => _password is not null;

    /// <summary>Host name or address; IPv6 addresses without brackets.</summary>
    public string Host { get; }

    public int Port { get; }

    public string Database { get; }

    /// <summary>Query options Gatekeeper understood (sslmode, connect_timeout, application_name, search_path, sslrootcert).</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>What the engine does differently (quoting, DDL, lock timeouts): ask it instead of comparing <see cref="Engine"/>.</summary>
    public SqlEngine SqlEngine => SqlEngine.For(Engine);

    public SqlDialect Dialect => SqlEngine.Dialect;

    /// <summary><c>postgres://app:***@host:5432/db</c>: safe for messages and logs.</summary>
    public string Redacted
    {
        get
        {
            var text = new StringBuilder().Append(Scheme).Append("://");
            if (User is not null)
            {
                text.Append(Uri.EscapeDataString(User));
                if (HasPassword)
                {
                    text.Append(":***");
                }

                text.Append('@');
            }

            return text.Append(Endpoint).Append('/').Append(Database).ToString();
        }
    }

    /// <summary><c>host:port</c>, with brackets around an IPv6 address.</summary>
    public string Endpoint => DatabaseIdentity.FormatEndpoint(Host, Port);

    public override string ToString() => Redacted;

    /// <summary>Parses a URL, or explains in one sentence what is wrong with it (never quoting the credentials).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out DatabaseUrl? url, [NotNullWhen(false)] out string? error)
    {
        url = null;
        error = Parse(text, out url);
        return error is null;
    }

    /// <summary>Parses a URL; throws <see cref="FormatException"/> with the same safe sentence <see cref="TryParse"/> gives.</summary>
    public static DatabaseUrl Parse(string text) =>
        TryParse(text, out var url, out var error) ? url : throw new FormatException(error);

    /// <summary>The same server and credentials, another database (test databases, MySQL shadow databases).</summary>
    public DatabaseUrl WithDatabase(string database) =>
        new(Engine, Scheme, User, _password, Host, Port, database, Options);

    /// <summary>The same server under another name (a short Kubernetes Service name qualified with its namespace).</summary>
    public DatabaseUrl WithHost(string host) =>
        new(Engine, Scheme, User, _password, host, Port, Database, Options);

    /// <summary>Where the plan goes, without credentials (plan hashes, messages, metrics), with the user and schema search path.</summary>
    public DatabaseIdentity ToIdentity(string historyTable) =>
        new(SqlEngine.Name, Host, Port, Database, historyTable)
        {
            User = User,
            Schema = Options.TryGetValue("search_path", out var searchPath) ? searchPath : null,
        };

    public NpgsqlConnectionStringBuilder ToNpgsqlConnectionStringBuilder()
    {
        RequireEngine(DatabaseEngine.Postgres);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Database = Database,
            Username = User,
            Password = _password,
            ApplicationName = Options.GetValueOrDefault("application_name", "gatekeeper"),
            // Migrations run as long as they need; dry-runs bound themselves with statement_timeout.
            CommandTimeout = 0,
            Timeout = ConnectTimeoutSeconds(15),
            // Npgsql 10 tries GSS encryption first by default; the slim data source has no integrated security, so the
            // attempt always fails and Npgsql opens a second TCP connection (a second server process) without it: two
            // extra backends and about 10 ms per migrate run, for an encryption it can never get. TLS is sslmode's.
            GssEncryptionMode = GssEncryptionMode.Disable,
        };
        if (Options.TryGetValue("sslmode", out var sslMode))
        {
            builder.SslMode = sslMode switch
            {
                "disable" => SslMode.Disable,
                "allow" => SslMode.Allow,
                "prefer" => SslMode.Prefer,
                "require" => SslMode.Require,
                "verify-ca" => SslMode.VerifyCA,
                _ => SslMode.VerifyFull,
            };
        }

        if (Options.TryGetValue("search_path", out var searchPath))
        {
            builder.SearchPath = searchPath;
        }

        if (Options.TryGetValue("sslrootcert", out var rootCert))
        {
            builder.RootCertificate = rootCert;
        }

        return builder;
    }

    public MySqlConnectionStringBuilder ToMySqlConnectionStringBuilder()
    {
        RequireEngine(DatabaseEngine.MySql);
        var builder = new MySqlConnectionStringBuilder
        {
            Server = Host,
            Port = checked((uint)Port),
            Database = Database,
            UserID = User ?? string.Empty,
            Password = _password ?? string.Empty,
            ApplicationName = Options.GetValueOrDefault("application_name", "gatekeeper"),
            // Migration files use @variables (SET @x := …); without this MySqlConnector takes them for parameters.
            AllowUserVariables = true,
            DefaultCommandTimeout = 0,
            ConnectionTimeout = checked((uint)ConnectTimeoutSeconds(15)),
        };
        if (Options.TryGetValue("sslmode", out var sslMode))
        {
            builder.SslMode = sslMode switch
            {
                "disable" or "disabled" or "none" => MySqlSslMode.None,
                "prefer" or "preferred" => MySqlSslMode.Preferred,
                "require" or "required" => MySqlSslMode.Required,
                "verify-ca" or "verify_ca" => MySqlSslMode.VerifyCA,
                _ => MySqlSslMode.VerifyFull,
            };
        }

        if (Options.TryGetValue("sslrootcert", out var rootCert))
        {
            builder.SslCa = rootCert;
        }

        return builder;
    }

    private int ConnectTimeoutSeconds(int fallback) =>
        Options.TryGetValue("connect_timeout", out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private void RequireEngine(DatabaseEngine engine)
    {
        if (Engine != engine)
        {
            throw new InvalidOperationException($"{Redacted} is a {Engine} URL, not a {engine} one.");
        }
    }

    private static string? Parse(string? text, out DatabaseUrl? url)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return "database URL is empty; expected postgres://user:password@host:port/database or mysql://…";
        }

        text = text.Trim();
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return "database URL is not a URL; expected postgres://user:password@host:port/database or mysql://…";
        }

        var scheme = text[..schemeEnd].ToLowerInvariant();
        if (SqlEngine.ForScheme(scheme) is not { } sqlEngine)
        {
            // The scheme cannot hold credentials, but a pasted secret might start anywhere: quote only a short, plain scheme.
            var shown = scheme.Length <= 20 && scheme.All(char.IsAsciiLetterOrDigit) ? $"'{scheme}'" : "of this URL";
            return $"unsupported scheme {shown}; use {string.Join(" or ", SqlEngine.All.Select(e => e.Schemes[0] + "://"))}";
        }

        var engine = sqlEngine.Kind;

        var rest = text[(schemeEnd + 3)..];
        var queryStart = rest.IndexOf('?');
        var query = queryStart >= 0 ? rest[(queryStart + 1)..] : string.Empty;
        var head = queryStart >= 0 ? rest[..queryStart] : rest;

        // The last '@' ends the user information, so an unescaped '@' in a password still parses.
        var at = head.LastIndexOf('@');
        string? user = null;
        string? password = null;
        if (at >= 0)
        {
            var userInfo = head[..at];
            head = head[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            var rawUser = colon >= 0 ? userInfo[..colon] : userInfo;
            if (!TryDecode(rawUser, out user))
            {
                return "database URL has an invalid percent-escape in its user name";
            }

            if (colon >= 0 && !TryDecode(userInfo[(colon + 1)..], out password))
            {
                return "database URL has an invalid percent-escape in its password";
            }

            if (user.Length == 0)
            {
                user = null;
            }
        }

        var slash = head.IndexOf('/');
        var authority = slash >= 0 ? head[..slash] : head;
        var path = slash >= 0 ? head[(slash + 1)..] : string.Empty;

        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                return "database URL has an unclosed '[' in its host";
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    return "database URL has text after the IPv6 host that is not a port";
                }

                portText = after[1..];
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
            portText = colon >= 0 ? authority[(colon + 1)..] : null;
        }

        if (host.Length == 0)
        {
            return "database URL has no host";
        }

        if (host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@' or '?' or '#'))
        {
            return "database URL has an invalid host name";
        }

        var port = sqlEngine.DefaultPort;
        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return portText.Length <= 8 && portText.All(char.IsAsciiDigit)
                    ? $"database URL has port {portText}, outside 1-65535"
                    : "database URL has a port that is not a number";
            }
        }

        if (!TryDecode(path.TrimEnd('/'), out var database) || database.Contains('/', StringComparison.Ordinal))
        {
            return "database URL has an invalid database name after the host";
        }

        if (database.Length == 0)
        {
            return $"database URL names no database; add /<database> after {host}";
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var rawKey = equals >= 0 ? pair[..equals] : pair;
            var rawValue = equals >= 0 ? pair[(equals + 1)..] : string.Empty;
            if (!TryDecode(rawKey, out var key) || !TryDecode(rawValue, out var value))
            {
                return "database URL has an invalid percent-escape in its options";
            }

            if (IgnoredOptions.Contains(key, StringComparer.Ordinal))
            {
                continue;
            }

            if (!SupportedOptions.Contains(key, StringComparer.Ordinal))
            {
                var shownKey = key.Length <= 40 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? $"'{key}'" : "in its query";
                return $"database URL has an unknown option {shownKey}; supported: {string.Join(", ", SupportedOptions)}";
            }

            var problem = CheckOption(sqlEngine, key, value);
            if (problem is not null)
            {
                return problem;
            }

            options[key] = value;
        }

        url = new DatabaseUrl(engine, scheme, user, password, host, port, database, options);
        return null;
    }

    private static string? CheckOption(SqlEngine engine, string key, string value)
    {
        switch (key)
        {
            case "sslmode":
                var modes = engine.SslModes;
                return modes.Contains(value, StringComparer.Ordinal)
                    ? null
                    : $"database URL has sslmode '{(value.Length <= 20 ? value : value[..20])}'; use one of {string.Join(", ", modes)}";
            case "connect_timeout":
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 3600
                    ? null
                    : "database URL has a connect_timeout that is not a whole number of seconds between 1 and 3600";
            case "search_path" when !engine.HasSchemasInsideDatabases:
                return $"database URL option 'search_path' does not apply to {engine.DisplayName}, whose databases hold no schemas";
            default:
                return null;
        }
    }

    private static bool TryDecode(string raw, out string decoded)
    {
        // Uri.UnescapeDataString leaves malformed escapes as they are; refuse them instead of guessing.
        for (var i = raw.IndexOf('%'); i >= 0; i = raw.IndexOf('%', i + 1))
        {
            if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
            {
                decoded = string.Empty;
                return false;
            }
        }

        decoded = Uri.UnescapeDataString(raw);
        return true;
    }
}
