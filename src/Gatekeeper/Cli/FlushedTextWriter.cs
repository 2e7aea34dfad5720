using System.Text;

namespace Gatekeeper.Cli;

/// <summary>
/// Holds what is written until <see cref="Flush"/>, then hands it to the inner writer in one piece. The console's own
/// writer flushes on every call, so a text finding written in pieces (location, rule, excerpt, help: about seven calls
/// a finding) cost one write system call a piece: 539 for kestra's 74 findings. The lint writers flush after each
/// finding, so the output still streams finding by finding, in the same bytes.
/// </summary>
internal sealed class FlushedTextWriter : TextWriter
{
    private readonly TextWriter inner;
    private readonly StringBuilder pending = new(4096);

    public FlushedTextWriter(TextWriter inner)
    {
        this.inner = inner;
        NewLine = inner.NewLine;
    }

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => pending.Append(value);

    public override void Write(string? value) => pending.Append(value);

    public override void Write(char[] buffer, int index, int count) => pending.Append(buffer, index, count);

    public override void Write(ReadOnlySpan<char> buffer) => pending.Append(buffer);

    public override void Flush()
    {
        if (pending.Length > 0)
        {
            inner.Write(pending.ToString());
            pending.Clear();
        }

        inner.Flush();
    }

    // TextWriter's own asynchronous flush runs Flush on the thread pool; this one has nothing to wait for.
    public override Task FlushAsync()
    {
        Flush();
        return Task.CompletedTask;
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Flush();
        return Task.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
        }

        base.Dispose(disposing);
    }
}
