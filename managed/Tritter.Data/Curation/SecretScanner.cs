using System.Text;
using System.Text.RegularExpressions;

namespace Tritter.Data.Curation;

/// <summary>A secret found in a file: its kind and where it is.</summary>
/// <param name="Kind">What it is: "private-key", "aws-access-key-id", "github-token", ...</param>
/// <param name="Start">First character.</param>
/// <param name="Length">Characters.</param>
public readonly record struct SecretMatch(string Kind, int Start, int Length);

/// <summary>
/// The security gate: finds private keys, cloud credentials, API tokens and passwords in connection strings and URLs.
/// Rules are tuned to miss little (a file with a secret must never reach the output), at the cost of dropping some
/// test fixtures; obvious placeholders ("password", "xxx", "${VAR}") are not secrets.
/// </summary>
public static partial class SecretScanner
{
    /// <summary>What a redacted secret is replaced with.</summary>
    public const string Redaction = "<REDACTED>";

    private static readonly (string Kind, Regex Pattern)[] Rules =
    [
        ("private-key", PrivateKey()),
        ("aws-access-key-id", AwsAccessKeyId()),
        ("aws-secret-access-key", AwsSecretKey()),
        ("github-token", GitHubToken()),
        ("gitlab-token", GitLabToken()),
        ("slack-token", SlackToken()),
        ("google-api-key", GoogleApiKey()),
        ("stripe-key", StripeKey()),
        ("openai-key", OpenAiKey()),
        ("connection-string-password", ConnectionStringPassword()),
        ("url-credentials", UrlCredentials()),
        ("api-key-assignment", ApiKeyAssignment()),
    ];

    private static readonly HashSet<string> Placeholders = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "passwd", "pass", "pwd", "secret", "xxx", "xxxx", "xxxxxx", "changeme", "example", "user", "username", "test", "dummy", "foo", "bar",
    };

    /// <summary>The secrets in <paramref name="text"/>, in order of position.</summary>
    public static List<SecretMatch> Scan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = new List<SecretMatch>();
        foreach (var (kind, pattern) in Rules)
        {
            for (var match = pattern.Match(text); match.Success; match = match.NextMatch())
            {
                // Rules with a "secret" group report just the secret, and placeholders there are not secrets.
                var secret = match.Groups["secret"];
                var span = secret.Success ? secret : (Group)match;
                if (secret.Success && IsPlaceholder(secret.Value))
                    continue;
                found.Add(new SecretMatch(kind, span.Index, span.Length));
            }
        }
        found.Sort((a, b) => a.Start.CompareTo(b.Start));
        return found;
    }

    /// <summary><paramref name="text"/> with every secret replaced by <see cref="Redaction"/>.</summary>
    public static string Redact(string text, IReadOnlyList<SecretMatch> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var secret in secrets)
        {
            if (secret.Start + secret.Length <= position)
                continue;
            builder.Append(text, position, Math.Max(0, secret.Start - position)).Append(Redaction);
            position = secret.Start + secret.Length;
        }
        return builder.Append(text, position, text.Length - position).ToString();
    }

    private static bool IsPlaceholder(string value) =>
        Placeholders.Contains(value) || value.IndexOfAny(['$', '{', '}', '<', '>', '%', '*']) >= 0 || value.Distinct().Count() <= 2;

    [GeneratedRegex(@"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----)?")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b")]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex(@"(?i)aws.{0,20}?(?:secret|private)?.{0,10}?key.{0,10}?[=:]\s*['""]?(?<secret>[0-9a-zA-Z/+]{40})(?![0-9a-zA-Z/+])")]
    private static partial Regex AwsSecretKey();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bglpat-[A-Za-z0-9_\-]{20,}")]
    private static partial Regex GitLabToken();

    [GeneratedRegex(@"\bxox[abprs]-[A-Za-z0-9-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_\-]{35}")]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"\b[sr]k_live_[0-9a-zA-Z]{20,}")]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\bsk-(?:proj-)?[A-Za-z0-9_\-]{32,}")]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"(?i)(?:server|host|data source|uid|user id)\s*=[^;\n]*;[^\n]*?\b(?:password|pwd)\s*=\s*(?<secret>[^;'""\s]{3,})")]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^/\s:@'""]{1,64}:(?<secret>[^/\s:@'""]{3,128})@[A-Za-z0-9]")]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"(?i)\b(?:api[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?token)\b['""]?\s*[:=]\s*['""](?<secret>[A-Za-z0-9_\-/+=.]{16,})['""]")]
    private static partial Regex ApiKeyAssignment();
}
