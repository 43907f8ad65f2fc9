using SharpVision.Models;
using static TorchSharp.torch;

namespace SharpVision.Weights;

/// <summary>
/// The header of a Darknet <c>.weights</c> file: version (major, minor, revision) and the number of images seen in
/// training. <c>seen</c> is an int64 when <c>major * 10 + minor &gt;= 2</c> (and both are below 1000), else an int32.
/// </summary>
public sealed record DarknetWeightsHeader(int Major, int Minor, int Revision, long Seen)
{
    /// <summary>What Darknet itself writes today: 0.2.0 with a 64-bit seen count.</summary>
    public static DarknetWeightsHeader Default { get; } = new(0, 2, 0, 0);

    /// <summary>True when <c>seen</c> is stored on 8 bytes.</summary>
    public bool SeenIs64Bit => Major * 10 + Minor >= 2 && Major < 1000 && Minor < 1000;

    /// <summary>Header size in bytes (16 or 20).</summary>
    public int Size => SeenIs64Bit ? 20 : 16;
}

/// <summary>
/// Reads and writes Darknet <c>.weights</c>: the header, then for each <c>[convolutional]</c> layer in order its
/// biases [n], and when it has BatchNorm its scales [n], rolling mean [n] and rolling variance [n], then its
/// weights [n * c/groups * size * size], all little-endian float32. Layers without weights take no bytes.
/// </summary>
public static class DarknetWeights
{
    /// <summary>Bytes of parameters the network's layers take in a <c>.weights</c> file (header excluded).</summary>
    public static long PayloadBytes(DarknetNetwork network) =>
        network.ConvolutionalLayers.SelectMany(FileOrder).Sum(t => 4L * t.numel());

    /// <summary>
    /// One convolution's tensors in the order Darknet stores them (<c>load_convolutional_weights</c>): biases, then
    /// with BatchNorm its scales, rolling mean and rolling variance, then the kernel. Read, write and size all follow it.
    /// </summary>
    private static IEnumerable<Tensor> FileOrder(DarknetConvolutional layer)
    {
        yield return layer.Biases;
        if (layer.BatchNormalize)
        {
            yield return layer.Scales!;
            yield return layer.RollingMean!;
            yield return layer.RollingVariance!;
        }
        yield return layer.Weights;
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="network"/>. A file shorter than the network needs is a
    /// <see cref="ModelFileException"/>; extra bytes at the end are allowed only with <paramref name="allowTrailing"/>
    /// (a backbone cut from a longer network, like Darknet's <c>partial</c>).
    /// </summary>
    public static DarknetWeightsHeader Read(string path, DarknetNetwork network, bool allowTrailing = false)
    {
        using var stream = OpenRead(path);
        using var reader = new BinaryReader(stream);
        long length = stream.Length;
        if (length < 16) throw new ModelFileException($"{path}: {length} bytes is too short for a Darknet weights header");
        int major = reader.ReadInt32(), minor = reader.ReadInt32(), revision = reader.ReadInt32();
        var header = new DarknetWeightsHeader(major, minor, revision, 0);
        long seen = header.SeenIs64Bit ? (length >= 20 ? reader.ReadInt64() : throw Short(path, length, 20)) : reader.ReadInt32();
        header = header with { Seen = seen };
        long need = header.Size + PayloadBytes(network);
        if (length < need) throw Short(path, length, need);
        if (length > need && !allowTrailing)
            throw new ModelFileException($"{path}: {length} bytes but {network.Config.Name}.cfg needs {need}; the weights belong to another cfg");
        using (no_grad())
        {
            foreach (var t in network.ConvolutionalLayers.SelectMany(FileOrder))
                Fill(reader, t);
        }
        return header;
    }

    /// <summary>Writes the network's parameters to <paramref name="path"/> (atomically) in Darknet's layout.</summary>
    public static void Write(string path, DarknetNetwork network, DarknetWeightsHeader? header = null)
    {
        header ??= DarknetWeightsHeader.Default;
        AtomicFile.Write(path, tmp =>
        {
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            using var writer = new BinaryWriter(stream);
            writer.Write(header.Major);
            writer.Write(header.Minor);
            writer.Write(header.Revision);
            if (header.SeenIs64Bit) writer.Write(header.Seen);
            else writer.Write(checked((int)header.Seen));
            foreach (var t in network.ConvolutionalLayers.SelectMany(FileOrder))
                Dump(writer, t);
        });
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException($"{path}: cannot read the Darknet weights ({e.Message})", e);
        }
    }

    private static ModelFileException Short(string path, long length, long need) =>
        new($"{path}: ends after {length} bytes but the cfg needs {need}; the weights belong to another cfg or the file is cut short");

    private static void Fill(BinaryReader reader, Tensor target)
    {
        int n = checked((int)target.numel());
        var bytes = reader.ReadBytes(n * 4);
        var values = new float[n];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Darknet weights are little-endian");
        using var src = tensor(values, target.shape);
        target.copy_(src);
    }

    private static void Dump(BinaryWriter writer, Tensor source)
    {
        using var cpu = source.detach().to(float32).cpu().contiguous();
        var values = cpu.data<float>().ToArray();
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        writer.Write(bytes);
    }
}
