using System.Runtime.CompilerServices;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>
/// Compares text with <c>Snapshots/&lt;name&gt;.approved.yaml</c> next to the test's source file. A difference (or a
/// missing approved file) writes <c>&lt;name&gt;.received.yaml</c> beside it and fails; approving is renaming it.
/// </summary>
internal static class ApprovedSnapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string testFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        var approvedPath = Path.Combine(directory, name + ".approved.yaml");
        var receivedPath = Path.Combine(directory, name + ".received.yaml");
        var normalized = actual.ReplaceLineEndings("\n");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : null;
        if (approved == normalized)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, normalized);
        Assert.Fail(approved is null
            ? $"No approved snapshot {approvedPath}; review {receivedPath} and rename it to approve it."
            : $"{name} differs from its approved snapshot; compare: diff {approvedPath} {receivedPath}");
    }
}
