using System.Buffers.Binary;
using System.IO.Compression;

namespace SharpVision.Data;

/// <summary>An idx array of unsigned bytes: its dimensions (<c>[60000, 28, 28]</c> for MNIST images) and values, row-major.</summary>
public sealed record IdxArray(int[] Shape, byte[] Values)
{
    /// <summary>Size of the first dimension (the number of images or labels).</summary>
    public int Count => Shape[0];

    /// <summary>Values per item: the product of the dimensions after the first (784 for 28x28 images, 1 for labels).</summary>
    public int ItemSize => Shape.Skip(1).Aggregate(1, (a, b) => a * b);

    /// <summary>The values of item <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Item(int index) => Values.AsSpan(index * ItemSize, ItemSize);
}

/// <summary>
/// Reads the idx format of MNIST and Fashion-MNIST (LeCun's <c>train-images-idx3-ubyte</c> files), plain or
/// gzip-compressed (told apart by the gzip magic, not the name). The header is two zero bytes, a type code
/// (0x08 = unsigned byte, the only type these data sets use), the number of dimensions, then each dimension as a
/// big-endian int32; the values follow, row-major. Errors name the file and what is wrong with it.
/// </summary>
public static class IdxFile
{
    /// <summary>The type code of unsigned-byte values.</summary>
    public const byte UnsignedByte = 0x08;

    /// <exception cref="DatasetException">The file is missing, not idx, of another value type, or shorter than its header says.</exception>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new DatasetException($"{path}: not found (expected an idx file, plain or .gz)");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
            if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                gzip.CopyTo(plain);
                bytes = plain.ToArray();
            }
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"{path}: not a valid gzip file ({e.Message})");
        }
        catch (IOException e)
        {
            throw new DatasetException($"{path}: cannot be read ({e.Message})");
        }
        return Parse(bytes, path);
    }

    private static IdxArray Parse(byte[] bytes, string path)
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DatasetException($"{path}: not an idx file (it must start with two zero bytes, a type code and a dimension count; it starts with {Hex(bytes)})");
        if (bytes[2] != UnsignedByte)
            throw new DatasetException($"{path}: idx value type 0x{bytes[2]:x2} is not supported (only 0x08, unsigned bytes, as in MNIST and Fashion-MNIST)");
        int dims = bytes[3];
        if (dims < 1) throw new DatasetException($"{path}: idx header has 0 dimensions");
        int header = 4 + 4 * dims;
        if (bytes.Length < header)
            throw new DatasetException($"{path}: truncated: the idx header needs {header} bytes for {dims} dimension(s), the file has {bytes.Length}");
        var shape = new int[dims];
        long count = 1;
        for (int i = 0; i < dims; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i, 4));
            if (shape[i] < 0) throw new DatasetException($"{path}: idx dimension {i + 1} is negative ({shape[i]})");
            count *= shape[i];
        }
        long available = bytes.Length - header;
        if (available < count)
            throw new DatasetException($"{path}: truncated: the header says {string.Join('x', shape)} = {count:N0} values, the file holds {available:N0}");
        if (available > count)
            throw new DatasetException($"{path}: {available - count:N0} bytes after the {string.Join('x', shape)} values the header announces");
        return new IdxArray(shape, bytes.AsSpan(header).ToArray());
    }

    private static string Hex(byte[] bytes) =>
        bytes.Length == 0 ? "nothing (empty file)" : string.Join(' ', bytes.Take(4).Select(b => b.ToString("x2")));
}
