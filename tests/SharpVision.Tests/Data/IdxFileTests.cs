using System.IO.Compression;
using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class IdxFileTests
{
    /// <summary>An idx file written byte by byte: 0, 0, type, dimension count, each dimension big-endian, values.</summary>
    internal static byte[] Idx(int[] shape, byte[] values, byte type = 0x08)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)shape.Length };
        foreach (int d in shape) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(values);
        return bytes.ToArray();
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(bytes);
        return output.ToArray();
    }

    [Fact]
    public void Reads_a_hand_made_idx3_file_plain_and_gzipped_alike()
    {
        // Given two 3x2 "images" (values 0..11) as an idx3 file, plain and gzipped, with names that do not say which
        using var dir = new TempDir();
        byte[] idx = Idx([2, 3, 2], Enumerable.Range(0, 12).Select(v => (byte)v).ToArray());
        string plain = Path.Combine(dir.Path, "a.bin"), gzipped = Path.Combine(dir.Path, "b.bin");
        File.WriteAllBytes(plain, idx);
        File.WriteAllBytes(gzipped, Gzip(idx));

        // When both are read
        var a = IdxFile.Read(plain);
        var b = IdxFile.Read(gzipped);

        // Then both give the shape, the row-major values and the items
        Assert.Equal([2, 3, 2], a.Shape);
        Assert.Equal(2, a.Count);
        Assert.Equal(6, a.ItemSize);
        Assert.Equal([6, 7, 8, 9, 10, 11], a.Item(1).ToArray());
        Assert.Equal(a.Shape, b.Shape);
        Assert.Equal(a.Values, b.Values);
    }

    [Fact]
    public void Reads_a_label_file_of_one_dimension()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "labels-idx1-ubyte.gz");
        File.WriteAllBytes(path, Gzip(Idx([4], [9, 0, 0, 3])));

        var labels = IdxFile.Read(path);

        Assert.Equal([4], labels.Shape);
        Assert.Equal(1, labels.ItemSize);
        Assert.Equal([9, 0, 0, 3], labels.Values);
    }

    [Theory]
    [InlineData("missing", "not found (expected an idx file, plain or .gz)")]
    [InlineData("text", "not an idx file (it must start with two zero bytes, a type code and a dimension count; it starts with 68 65 6c 6c)")]
    [InlineData("empty", "not an idx file (it must start with two zero bytes, a type code and a dimension count; it starts with nothing (empty file))")]
    [InlineData("floats", "idx value type 0x0d is not supported (only 0x08, unsigned bytes, as in MNIST and Fashion-MNIST)")]
    [InlineData("short-header", "truncated: the idx header needs 16 bytes for 3 dimension(s), the file has 8")]
    [InlineData("short-values", "truncated: the header says 2x3x2 = 12 values, the file holds 11")]
    [InlineData("trailing", "1 bytes after the 2x3x2 values the header announces")]
    [InlineData("bad-gzip", "not a valid gzip file (")]
    public void A_bad_file_is_refused_naming_the_path_and_the_reason(string kind, string reason)
    {
        // Given a file that is not a usable idx file
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, kind + "-idx3-ubyte");
        byte[] good = Idx([2, 3, 2], new byte[12]);
        byte[]? bytes = kind switch
        {
            "missing" => null,
            "text" => "hello"u8.ToArray(),
            "empty" => [],
            "floats" => Idx([2], new byte[8], type: 0x0D),
            "short-header" => good[..8],
            "short-values" => good[..^1],
            "trailing" => [.. good, 7],
            _ => [0x1f, 0x8b, 1, 2, 3],
        };
        if (bytes is not null) File.WriteAllBytes(path, bytes);

        // When it is read, Then the error names the file and says what is wrong
        var error = Assert.Throws<DatasetException>(() => IdxFile.Read(path));
        Assert.StartsWith($"{path}: {reason}", error.Message);
    }
}
