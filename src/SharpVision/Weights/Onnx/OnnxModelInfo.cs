using System.Text.Json;
using System.Text.Json.Serialization;
using Onnx;
using SharpVision.Imaging;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// What a SharpVision ONNX export says about itself, read back from the model's <c>metadata_props</c>:
/// architecture, classes and the preprocessing the graph's input expects. Reading it needs neither
/// libtorch nor ONNX Runtime, and skips over the weights without loading them.
/// </summary>
/// <param name="Architecture">Registered architecture name ("resnet18") or "custom".</param>
/// <param name="Task">"classification".</param>
/// <param name="NumClasses">Columns of the "logits" and "probabilities" outputs.</param>
/// <param name="Classes">Class names, index = output column (for one column: [negative, positive] names).</param>
/// <param name="Preprocessing">Size, channel order, scale, mean/std or mean image of the "input" tensor.</param>
/// <param name="Spec">The YAML layer list of a custom (builder) model, else null.</param>
/// <param name="Metadata">Every metadata entry as stored (keys from <see cref="OnnxModelInfo"/>' constants and any others).</param>
public sealed record OnnxModelInfo(
    string Architecture,
    string Task,
    int NumClasses,
    IReadOnlyList<string> Classes,
    Preprocessing Preprocessing,
    string? Spec,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Value of <see cref="FormatKey"/> in every SharpVision export.</summary>
    public const string FormatName = "sharpvision-onnx";
    public const string FormatKey = "sharpvision.format";
    public const string VersionKey = "sharpvision.version";
    public const string ArchitectureKey = "sharpvision.architecture";
    public const string TaskKey = "sharpvision.task";
    public const string NumClassesKey = "sharpvision.num_classes";
    /// <summary>JSON array of class names.</summary>
    public const string ClassesKey = "sharpvision.classes";
    /// <summary>JSON of <see cref="Imaging.Preprocessing"/>, including the mean image when there is one.</summary>
    public const string PreprocessingKey = "sharpvision.preprocessing";
    /// <summary>"true" when the preprocessing subtracts a mean image rather than per-channel mean/std.</summary>
    public const string MeanImageKey = "sharpvision.preprocessing.has_mean_image";
    /// <summary>YAML layer list of a custom model.</summary>
    public const string SpecKey = "sharpvision.spec";
    /// <summary>Human-readable description of the graph's input and outputs.</summary>
    public const string OutputsKey = "sharpvision.outputs";

    /// <summary>Graph input: [N, C, Size, Size] float32, already preprocessed.</summary>
    public const string InputName = "input";
    /// <summary>Graph output: [N, K] raw scores, equal to SharpVision's forward.</summary>
    public const string LogitsName = "logits";
    /// <summary>Graph output: [N, K] Sigmoid(logits) for K = 1, Softmax(logits) over classes otherwise.</summary>
    public const string ProbabilitiesName = "probabilities";

    internal static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Reads the metadata of a SharpVision ONNX export.</summary>
    /// <exception cref="ModelFileException">Missing, not an ONNX model, or not exported by SharpVision.</exception>
    public static OnnxModelInfo Read(string path)
    {
        if (!File.Exists(path)) throw new ModelFileException($"{path}: ONNX model file not found.");
        Dictionary<string, string> metadata;
        try
        {
            metadata = ReadMetadataProps(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFileException($"{path}: not an ONNX model ({e.Message}).", e);
        }
        return FromMetadata(metadata, path);
    }

    internal static OnnxModelInfo FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(FormatKey, out var format) || format != FormatName)
            throw new ModelFileException($"{path}: this ONNX model was not exported by SharpVision (no '{FormatKey}' metadata), so its classes and preprocessing are unknown.");
        string Need(string key) => metadata.TryGetValue(key, out var v)
            ? v : throw new ModelFileException($"{path}: the ONNX metadata lacks '{key}'.");
        if (metadata.GetValueOrDefault(TaskKey) == OnnxDetectorInfo.DetectionTask)
            throw new ModelFileException($"{path} is a {metadata.GetValueOrDefault(ArchitectureKey)} detector, not a classifier: use 'sharpvision detect predict'.");
        try
        {
            var classes = JsonSerializer.Deserialize<List<string>>(Need(ClassesKey), Json) ?? [];
            var pre = JsonSerializer.Deserialize<Preprocessing>(Need(PreprocessingKey), Json)
                ?? throw new ModelFileException($"{path}: empty '{PreprocessingKey}' metadata.");
            int numClasses = int.Parse(Need(NumClassesKey), System.Globalization.CultureInfo.InvariantCulture);
            return new OnnxModelInfo(Need(ArchitectureKey), Need(TaskKey), numClasses, classes, pre,
                metadata.GetValueOrDefault(SpecKey), metadata);
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            throw new ModelFileException($"{path}: the SharpVision ONNX metadata is not valid ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Walks the top-level fields of the ModelProto on disk and parses only <c>metadata_props</c> (field 14);
    /// every other field (the graph with its hundreds of MB of weights) is skipped by seeking.
    /// </summary>
    internal static Dictionary<string, string> ReadMetadataProps(string path)
    {
        const int MetadataPropsField = 14;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        while (fs.Position < fs.Length)
        {
            ulong tag = ReadVarint(fs);
            int field = (int)(tag >> 3);
            int wire = (int)(tag & 7);
            if (field == 0) throw new InvalidDataException("a protobuf field number 0");
            switch (wire)
            {
                case 0: ReadVarint(fs); break;
                case 1: Skip(fs, 8); break;
                case 5: Skip(fs, 4); break;
                case 2:
                {
                    ulong length = ReadVarint(fs);
                    if (length > (ulong)(fs.Length - fs.Position)) throw new InvalidDataException("a field runs past the end of the file");
                    if (field != MetadataPropsField) { Skip(fs, (long)length); break; }
                    var bytes = new byte[length];
                    fs.ReadExactly(bytes);
                    var entry = StringStringEntryProto.Parser.ParseFrom(bytes);
                    result[entry.Key] = entry.Value;
                    break;
                }
                default: throw new InvalidDataException($"protobuf wire type {wire}");
            }
        }
        return result;
    }

    private static void Skip(FileStream fs, long count)
    {
        if (count > fs.Length - fs.Position) throw new InvalidDataException("a field runs past the end of the file");
        fs.Seek(count, SeekOrigin.Current);
    }

    private static ulong ReadVarint(Stream s)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = s.ReadByte();
            if (b < 0) throw new InvalidDataException("the file ends inside a field header");
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("a malformed varint");
    }
}
