namespace Gatekeeper.Core.Integrity;

/// <summary>CRC-32 with the IEEE 802.3 polynomial (what <c>java.util.zip.CRC32</c> and zlib compute).</summary>
internal static class Crc32
{
    public const uint Initial = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    public static uint Append(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;

    public static uint Compute(ReadOnlySpan<byte> bytes) => Finish(Append(Initial, bytes));

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
