namespace Gatekeeper.Kubernetes.Watching;

/// <summary>The <c>type</c> of one line of a Kubernetes watch stream.</summary>
public enum WatchEventType
{
    Added,
    Modified,
    Deleted,

    /// <summary>The server reports a problem (a <c>Status</c> object), most often 410 Gone: the resourceVersion expired.</summary>
    Error,

    /// <summary>Only a newer resourceVersion: nothing changed, but a resumed watch may start from here.</summary>
    Bookmark,
}
