namespace SharpVision.Weights;

/// <summary>
/// The zip CRC-32 (IEEE, reflected 0xEDB88320), slicing by 8 bytes. .NET's ZipArchive does not check entry
/// checksums when a reader stops at the expected length (as PyBridge does), so a bit flip inside a tensor would
/// load silently; we check every entry of a weights archive against its recorded CRC instead.
/// </summary>
internal static class Crc32
{
    private static readonly uint[][] Tables = BuildTables();

    private static uint[][] BuildTables()
    {
        var t = new uint[8][];
        for (int k = 0; k < 8; k++) t[k] = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int b = 0; b < 8; b++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (int i = 0; i < 256; i++)
            for (int k = 1; k < 8; k++)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
        return t;
    }

    /// <summary>Continues a running CRC (start with 0) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        var t = Tables;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint lo = c ^ (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            uint hi = (uint)(data[i + 4] | data[i + 5] << 8 | data[i + 6] << 16 | data[i + 7] << 24);
            c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24]
              ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        }
        for (; i < data.Length; i++)
            c = t[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    /// <summary>CRC-32 of a whole stream, read to its end.</summary>
    public static uint Of(Stream stream)
    {
        var buffer = new byte[1 << 20];
        uint crc = 0;
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            crc = Append(crc, buffer.AsSpan(0, n));
        return crc;
    }
}
