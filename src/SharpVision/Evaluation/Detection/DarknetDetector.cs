using F = TorchSharp.torch.nn.functional;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Evaluation.Detection;

/// <summary>Settings of <see cref="DarknetDetector"/>: Darknet's <c>detector test</c> defaults.</summary>
public sealed record DarknetDetectOptions
{
    /// <summary>Keep boxes whose objectness x class probability is above this (Darknet's <c>-thresh</c>, default .5).</summary>
    public float Threshold { get; init; } = .5f;

    /// <summary>Per-class NMS removes a box whose IoU with a better one is strictly above this (Darknet's .45).</summary>
    public float NmsThreshold { get; init; } = .45f;
}

/// <summary>The detections of one image of a <c>DarknetDetector.Predict</c> run.</summary>
public sealed record ImageDetections(string Path, int ImageId, int Width, int Height, IReadOnlyList<DetectedObject> Objects);

/// <summary>The outcome of <c>DarknetDetector.Predict</c>: detections per image in sorted input order, and files that could not be decoded.</summary>
public sealed record DetectionRun(IReadOnlyList<ImageDetections> Images, IReadOnlyList<ImageDecodeException> Skipped, IReadOnlyList<string> ClassNames);

/// <summary>
/// A Darknet YOLO detector: cfg + <c>.weights</c> + class names, run like Darknet (letterbox, YOLO decoding,
/// per-class greedy NMS). <c>Predict</c> is everything <c>detect predict</c> needs.
/// </summary>
public sealed class DarknetDetector : IDisposable
{
    private DarknetDetector(DarknetNetwork network, IReadOnlyList<string> classNames)
    {
        Network = network;
        ClassNames = classNames;
        Heads = network.YoloLayers;
        if (Heads.Count == 0) throw new ModelDefinitionException($"{network.Config.Name}.cfg has no [yolo] layer: it is not a YOLOv3 detector");
        int classes = Heads[0].Classes;
        if (Heads.Any(h => h.Classes != classes)) throw new ModelDefinitionException($"{network.Config.Name}.cfg: [yolo] layers disagree on classes");
        if (classNames.Count != classes)
            throw new ModelFileException($"the class-names file has {classNames.Count} names but {network.Config.Name}.cfg's [yolo] layers have classes={classes}");
    }

    /// <summary>The network (eval mode).</summary>
    public DarknetNetwork Network { get; }

    /// <summary>Class names, index = class id.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The YOLO heads.</summary>
    public IReadOnlyList<YoloLayer> Heads { get; }

    /// <summary>Builds the cfg, loads the weights and the names (one per line, like Darknet's <c>coco.names</c>).</summary>
    public static DarknetDetector Load(string cfgPath, string weightsPath, string namesPath)
    {
        var network = DarknetNetwork.FromFile(cfgPath);
        try
        {
            DarknetWeights.Read(weightsPath, network);
            network.eval();
            return new DarknetDetector(network, ReadNames(namesPath));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an already loaded network (for tests and benchmarks).</summary>
    public static DarknetDetector FromNetwork(DarknetNetwork network, IReadOnlyList<string> classNames)
    {
        network.eval();
        return new DarknetDetector(network, classNames);
    }

    /// <summary>Reads a names file: one class per line, blank lines at the end ignored.</summary>
    public static IReadOnlyList<string> ReadNames(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
            while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
            return lines;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException($"{path}: cannot read the class names ({e.Message})", e);
        }
    }

    /// <summary>The candidates of one image before NMS (Darknet's <c>get_network_boxes</c>), in image pixels.</summary>
    public List<YoloCandidate> Candidates(RgbImage image, float threshold)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(DarknetImage.Letterbox(image, Network.Width, Network.Height), [1, 3, Network.Height, Network.Width]);
        var outputs = Network.call(input);
        return YoloDecoder.Decode(Heads, outputs, 0, Network.Width, Network.Height, image.Width, image.Height, threshold);
    }

    /// <summary>Detects objects in one image: decoding, per-class NMS, scores above the threshold, boxes clipped to the image, best first.</summary>
    public IReadOnlyList<DetectedObject> Detect(RgbImage image, DarknetDetectOptions? options = null)
    {
        options ??= new DarknetDetectOptions();
        var candidates = Candidates(image, options.Threshold);
        var boxes = new List<(float, float, float, float)>();
        var scores = new List<float>();
        var classes = new List<int>();
        var source = new List<int>();
        for (int i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            for (int j = 0; j < c.Probabilities.Length; j++)
            {
                if (c.Probabilities[j] == 0) continue;
                // Corners from the centre in float, like Darknet's overlap(): x - w/2, x + w/2.
                boxes.Add((c.X - c.W / 2, c.Y - c.H / 2, c.X + c.W / 2, c.Y + c.H / 2));
                scores.Add(c.Probabilities[j]);
                classes.Add(j);
                source.Add(i);
            }
        }
        var kept = Nms.PerClass(boxes, scores, classes, options.NmsThreshold);
        var result = new List<DetectedObject>(kept.Count);
        foreach (int k in kept)
        {
            if (scores[k] <= options.Threshold) continue;
            var (x1, y1, x2, y2) = boxes[k];
            // Clipped to the image as Darknet prints them (its COCO output).
            result.Add(new DetectedObject(classes[k], ClassNames[classes[k]], scores[k],
                Math.Max(0, x1), Math.Max(0, y1), Math.Min(image.Width, x2), Math.Min(image.Height, y2)));
        }
        return result.OrderByDescending(d => d.Score).ToList();
    }

    /// <summary>
    /// Runs a Darknet detector over image files in sorted (ordinal) path order and writes, into <paramref name="outputDir"/>,
    /// each image with its boxes, labels and scores drawn (<c>&lt;stem&gt;.png</c>), <c>detections.txt</c> and
    /// <c>detections.json</c> (see <see cref="DetectionWriter"/>). Undecodable images are skipped and listed.
    /// </summary>
    public static DetectionRun Predict(string cfgPath, string weightsPath, string namesPath, IEnumerable<string> imagePaths,
        string outputDir, DarknetDetectOptions? options = null)
    {
        using var detector = Load(cfgPath, weightsPath, namesPath);
        return detector.Predict(imagePaths, outputDir, options);
    }

    /// <summary>Instance form of <see cref="Predict(string, string, string, IEnumerable{string}, string, DarknetDetectOptions?)"/>.</summary>
    public DetectionRun Predict(IEnumerable<string> imagePaths, string outputDir, DarknetDetectOptions? options = null)
    {
        var paths = imagePaths.OrderBy(p => p, StringComparer.Ordinal).ToList();
        var images = new List<ImageDetections>();
        var skipped = new List<ImageDecodeException>();
        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "detections.png" };
        Directory.CreateDirectory(outputDir);
        for (int i = 0; i < paths.Count; i++)
        {
            RgbImage image;
            try
            {
                image = ImageDecoder.Decode(paths[i]);
            }
            catch (ImageDecodeException e)
            {
                skipped.Add(e);
                continue;
            }
            var found = Detect(image, options);
            // image_id is the position in sorted input order + 1, skipped files included, so ids never shift.
            var entry = new ImageDetections(paths[i], i + 1, image.Width, image.Height, found);
            images.Add(entry);
            // Two inputs with the same stem (a.jpg, a.png or dir1/a.jpg, dir2/a.jpg) get a.png and a_2.png.
            string drawn = DetectionWriter.DrawnName(paths[i]);
            for (int n = 2; !usedNames.Add(drawn); n++)
                drawn = $"{Path.GetFileNameWithoutExtension(paths[i])}_{n}.png";
            DetectionWriter.SaveDrawn(image, found, Path.Combine(outputDir, drawn));
        }
        var run = new DetectionRun(images, skipped, ClassNames);
        DetectionWriter.WriteText(run, Path.Combine(outputDir, "detections.txt"));
        DetectionWriter.WriteCocoJson(run, Path.Combine(outputDir, "detections.json"));
        return run;
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();
}
