using System.Globalization;
using System.Text.Json;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// What a SharpVision detector export (<see cref="OnnxDetectorExporter"/>) says about itself, read from its
/// <c>metadata_props</c> without libtorch or ONNX Runtime: classes, input size, anchors and grids per head, and whose
/// letterbox prepares its input.
/// </summary>
/// <param name="Architecture">"yolov3-tiny", "yolov3-resnet18", a Darknet cfg's name ...</param>
/// <param name="Classes">Class names, index = column of "class_scores".</param>
/// <param name="InputWidth">Width of the "input" tensor in pixels.</param>
/// <param name="InputHeight">Height of the "input" tensor in pixels.</param>
/// <param name="Anchors">Per head (output order), its anchors' width and height in input pixels.</param>
/// <param name="Grids">Per head, its grid rows and columns.</param>
/// <param name="Letterbox"><see cref="SharpVisionLetterbox"/> or <see cref="DarknetLetterbox"/>.</param>
/// <param name="Metadata">Every metadata entry as stored.</param>
public sealed record OnnxDetectorInfo(
    string Architecture,
    IReadOnlyList<string> Classes,
    int InputWidth,
    int InputHeight,
    IReadOnlyList<IReadOnlyList<(float W, float H)>> Anchors,
    IReadOnlyList<(int Rows, int Columns)> Grids,
    string Letterbox,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Value of <see cref="OnnxModelInfo.TaskKey"/> in a detector export.</summary>
    public const string DetectionTask = "detection";
    /// <summary>Input width in pixels.</summary>
    public const string InputWidthKey = "sharpvision.input_width";
    /// <summary>Input height in pixels.</summary>
    public const string InputHeightKey = "sharpvision.input_height";
    /// <summary>JSON [[[w, h], ...] per head]: anchors in input pixels, heads in output order.</summary>
    public const string AnchorsKey = "sharpvision.anchors";
    /// <summary>JSON [[rows, columns] per head].</summary>
    public const string GridsKey = "sharpvision.grids";
    /// <summary><see cref="SharpVisionLetterbox"/> or <see cref="DarknetLetterbox"/>: how an image becomes the input and a box goes back.</summary>
    public const string LetterboxKey = "sharpvision.letterbox";
    /// <summary>Cap on the raw width/height logits before exp ("10" for trained models, "none" for Darknet's).</summary>
    public const string MaxLogSizeKey = "sharpvision.max_log_size";
    /// <summary>The cfg text a trained detector is rebuilt from.</summary>
    public const string CfgKey = "sharpvision.cfg";

    /// <summary>Centred letterbox resampled once, grey 128, boxes back by its exact inverse (SharpVision's training letterbox).</summary>
    public const string SharpVisionLetterbox = "sharpvision";
    /// <summary>Darknet's letterbox_image (integer geometry, two-pass resize, grey 0.5) and correct_yolo_boxes.</summary>
    public const string DarknetLetterbox = "darknet";

    /// <summary>Graph output [N, P, 4]: centre x, centre y, width, height in input pixels.</summary>
    public const string BoxesName = "boxes";
    /// <summary>Graph output [N, P]: objectness in 0..1.</summary>
    public const string ObjectnessName = "objectness";
    /// <summary>Graph output [N, P, K]: class probabilities (score = objectness x probability).</summary>
    public const string ClassScoresName = "class_scores";

    /// <summary>True when the file's metadata says it is a SharpVision detector export (false for a classifier or a foreign model).</summary>
    public static bool IsDetector(string path)
    {
        try
        {
            return OnnxModelInfo.ReadMetadataProps(path).GetValueOrDefault(OnnxModelInfo.TaskKey) == DetectionTask;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>Reads the metadata of a SharpVision detector export.</summary>
    /// <exception cref="ModelFileException">Missing, not an ONNX model, not a SharpVision detector export, or bad metadata.</exception>
    public static OnnxDetectorInfo Read(string path)
    {
        if (!File.Exists(path)) throw new ModelFileException($"{path}: ONNX model file not found.");
        Dictionary<string, string> metadata;
        try
        {
            metadata = OnnxModelInfo.ReadMetadataProps(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFileException($"{path}: not an ONNX model ({e.Message}).", e);
        }
        return FromMetadata(metadata, path);
    }

    internal static OnnxDetectorInfo FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (metadata.GetValueOrDefault(OnnxModelInfo.FormatKey) != OnnxModelInfo.FormatName)
            throw new ModelFileException($"{path}: this ONNX model was not exported by SharpVision (no '{OnnxModelInfo.FormatKey}' metadata), so its classes, anchors and letterbox are unknown.");
        string Need(string key) => metadata.TryGetValue(key, out var v) ? v : throw new ModelFileException($"{path}: the ONNX metadata lacks '{key}'.");
        string task = Need(OnnxModelInfo.TaskKey);
        if (task != DetectionTask)
            throw new ModelFileException($"{path} is a {task} model ({metadata.GetValueOrDefault(OnnxModelInfo.ArchitectureKey)}), not a detector: use 'sharpvision predict'.");
        try
        {
            var classes = JsonSerializer.Deserialize<List<string>>(Need(OnnxModelInfo.ClassesKey)) ?? [];
            var anchors = (JsonSerializer.Deserialize<float[][][]>(Need(AnchorsKey)) ?? [])
                .Select(h => (IReadOnlyList<(float W, float H)>)h.Select(a => (a[0], a[1])).ToList()).ToList();
            var grids = (JsonSerializer.Deserialize<int[][]>(Need(GridsKey)) ?? []).Select(g => (g[0], g[1])).ToList();
            string letterbox = Need(LetterboxKey);
            if (letterbox is not (SharpVisionLetterbox or DarknetLetterbox))
                throw new ModelFileException($"{path}: '{LetterboxKey}' must be {SharpVisionLetterbox} or {DarknetLetterbox}. Received: {letterbox}");
            if (anchors.Count == 0 || anchors.Count != grids.Count)
                throw new ModelFileException($"{path}: '{AnchorsKey}' and '{GridsKey}' must describe the same heads");
            return new OnnxDetectorInfo(Need(OnnxModelInfo.ArchitectureKey), classes,
                int.Parse(Need(InputWidthKey), CultureInfo.InvariantCulture), int.Parse(Need(InputHeightKey), CultureInfo.InvariantCulture),
                anchors, grids, letterbox, metadata);
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            throw new ModelFileException($"{path}: the SharpVision ONNX detector metadata is not valid ({e.Message}).", e);
        }
    }

    /// <summary>Rows P of the outputs: every head's cells x anchors.</summary>
    public int Rows => Grids.Select((g, i) => g.Rows * g.Columns * Anchors[i].Count).Sum();
}
