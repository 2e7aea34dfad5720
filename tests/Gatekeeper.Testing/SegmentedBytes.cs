using System.Buffers;

namespace Gatekeeper.Tests;

/// <summary>A request body as Kestrel can hand it over: in segments, which a reader must join at any byte.</summary>
public static class SegmentedBytes
{
    /// <summary>The bytes as a sequence whose first segment is <paramref name="first"/> bytes long and the others <paramref name="size"/> (the last one shorter).</summary>
    public static ReadOnlySequence<byte> Of(byte[] bytes, int first, int size)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var head = new Segment(bytes.AsMemory(0, first), 0);
        var last = head;
        for (var at = first; at < bytes.Length; at += size)
        {
            last = last.Append(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)));
        }

        return new ReadOnlySequence<byte>(head, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
