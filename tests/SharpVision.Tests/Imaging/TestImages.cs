using System.Buffers.Binary;
using System.IO.Compression;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

/// <summary>Builds small encoded images byte by byte, so decoder tests need no fixture files.</summary>
internal static class TestImages
{
    /// <summary>A w x h image whose pixel (x, y) is (10x+5, 10y+5, 100 + x + y) (distinct and JPEG-friendly enough).</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = ((byte)(10 * x + 5), (byte)(10 * y + 5), (byte)(100 + x + y));
        return image;
    }

    /// <summary>A PNG with the given colour type and bit depth; <paramref name="rows"/> are raw scanlines without filter bytes.</summary>
    public static byte[] Png(int width, int height, byte colourType, byte bitDepth, byte[][] rows, byte[]? palette = null, byte[]? trns = null)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        Chunk(ms, "IHDR", ihdr);
        if (palette is not null) Chunk(ms, "PLTE", palette);
        if (trns is not null) Chunk(ms, "tRNS", trns);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
            foreach (byte[] row in rows)
            {
                z.WriteByte(0); // filter: none
                z.Write(row);
            }
        Chunk(ms, "IDAT", raw.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typed));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A bottom-up 24-bit BMP (BGR rows padded to 4 bytes).</summary>
    public static byte[] Bmp(RgbImage image)
    {
        int rowBytes = (image.Width * 3 + 3) & ~3;
        int size = 54 + rowBytes * image.Height;
        var b = new byte[size];
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), size);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), image.Width);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), image.Height);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        for (int y = 0; y < image.Height; y++)
        {
            int row = 54 + (image.Height - 1 - y) * rowBytes;
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, bl) = image[x, y];
                b[row + x * 3] = bl;
                b[row + x * 3 + 1] = g;
                b[row + x * 3 + 2] = r;
            }
        }
        return b;
    }

    /// <summary>
    /// A GIF of palette indices (4-colour global palette). The LZW stream sends a clear code before every
    /// pixel, so every code stays 3 bits wide: valid, if not small.
    /// </summary>
    public static byte[] Gif(int width, int height, byte[] palette12, byte[] indices, int frames = 1)
    {
        using var ms = new MemoryStream();
        ms.Write("GIF89a"u8);
        Span<byte> u16 = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)width); ms.Write(u16);
        BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)height); ms.Write(u16);
        ms.WriteByte(0b1000_0001); // global colour table of 2^(1+1) = 4 entries
        ms.WriteByte(0);
        ms.WriteByte(0);
        ms.Write(palette12);
        for (int f = 0; f < frames; f++)
        {
            ms.WriteByte(0x2C);
            ms.Write([0, 0, 0, 0]);
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)width); ms.Write(u16);
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)height); ms.Write(u16);
            ms.WriteByte(0);
            ms.WriteByte(2); // LZW minimum code size: clear = 4, end = 5, codes 3 bits
            var codes = new List<int>();
            foreach (byte i in indices) { codes.Add(4); codes.Add(f == 0 ? i : (i + 1) % 4); }
            codes.Add(5);
            var data = new List<byte>();
            int acc = 0, nbits = 0;
            foreach (int c in codes)
            {
                acc |= c << nbits;
                nbits += 3;
                while (nbits >= 8) { data.Add((byte)acc); acc >>= 8; nbits -= 8; }
            }
            if (nbits > 0) data.Add((byte)acc);
            for (int off = 0; off < data.Count; off += 255)
            {
                int n = Math.Min(255, data.Count - off);
                ms.WriteByte((byte)n);
                ms.Write(data.GetRange(off, n).ToArray());
            }
            ms.WriteByte(0);
        }
        ms.WriteByte(0x3B);
        return ms.ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment with the given orientation (1..8) right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at offset 8
            0, 1,                                    // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1,            // tag 0x0112 Orientation, SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0, 0,
            0, 0, 0, 0,                              // no next IFD
        ];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int len = payload.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(len >> 8), (byte)len, .. payload];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>
    /// A baseline 8x8 JPEG of one flat CMYK colour, stored inverted as Adobe/Photoshop writes it (APP14
    /// transform 0). Flat blocks have only a DC coefficient, so the entropy coding is tiny: a DC table with
    /// 4-bit codes for categories 0..11 and an AC table holding only end-of-block ("0").
    /// </summary>
    public static byte[] CmykJpeg(byte c, byte m, byte y, byte k)
    {
        var o = new List<byte> { 0xFF, 0xD8 };
        o.AddRange([0xFF, 0xEE, 0, 14, (byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0, 100, 0, 0, 0, 0, 0]);
        o.AddRange([0xFF, 0xDB, 0, 67, 0]);
        o.AddRange(Enumerable.Repeat((byte)1, 64)); // quantisation 1 everywhere
        o.AddRange([0xFF, 0xC0, 0, 20, 8, 0, 8, 0, 8, 4]);
        for (byte id = 1; id <= 4; id++) o.AddRange([id, 0x11, 0]);
        var dcCounts = new byte[16];
        dcCounts[3] = 12; // twelve codes of length 4: category s has code s
        o.AddRange([0xFF, 0xC4, 0, 3 + 16 + 12, 0x00, .. dcCounts, .. Enumerable.Range(0, 12).Select(i => (byte)i)]);
        var acCounts = new byte[16];
        acCounts[0] = 1; // one code of length 1: "0" = end of block
        o.AddRange([0xFF, 0xC4, 0, 3 + 16 + 1, 0x10, .. acCounts, 0x00]);
        o.AddRange([0xFF, 0xDA, 0, 14, 4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);

        var bits = new List<bool>();
        void Put(int value, int count) { for (int i = count - 1; i >= 0; i--) bits.Add(((value >> i) & 1) != 0); }
        foreach (byte v in new[] { c, m, y, k })
        {
            int dc = 8 * (v - 128); // DC of a flat block: sum of (v - 128) over 64 samples / 8
            int mag = Math.Abs(dc), cat = 0;
            while ((1 << cat) <= mag) cat++;
            Put(cat, 4);
            if (cat > 0) Put(dc >= 0 ? dc : dc + (1 << cat) - 1, cat);
            Put(0, 1); // end of block
        }
        while (bits.Count % 8 != 0) bits.Add(true);
        for (int i = 0; i < bits.Count; i += 8)
        {
            int b = 0;
            for (int j = 0; j < 8; j++) b = (b << 1) | (bits[i + j] ? 1 : 0);
            o.Add((byte)b);
            if (b == 0xFF) o.Add(0); // byte stuffing
        }
        o.AddRange([0xFF, 0xD9]);
        return o.ToArray();
    }
}
