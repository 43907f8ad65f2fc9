using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// The one YOLOv3 inference path, for a trained SharpVision detector (a <c>.svmodel</c> with task "detection"), a
/// Darknet cfg + <c>.weights</c>, and either of them exported to ONNX: <see cref="DetectorLetterbox"/>, the network
/// (TorchSharp, or ONNX Runtime for a <c>.onnx</c> file), <see cref="YoloDecoder.Candidates"/>, <see cref="Nms.Select"/>,
/// and <see cref="DetectionWriter"/> for the files. The kinds differ only in <see cref="Arithmetic"/> (a Darknet cfg runs
/// like Darknet's <c>detector test</c>) and in what runs the network; an ONNX detector never calls TorchSharp.
/// </summary>
public sealed class YoloDetector : IDisposable
{
    private readonly IYoloEngine _engine;
    private readonly TorchYoloEngine? _torch;
    private readonly int _classes;

    private YoloDetector(IYoloEngine engine, int classes, int width, int height, IReadOnlyList<string> classNames, DetectorArithmetic arithmetic, string what)
    {
        if (classNames.Count != classes)
            throw new ModelFileException($"the class list has {classNames.Count} names but {what} classes={classes}");
        _engine = engine;
        _torch = engine as TorchYoloEngine;
        _classes = classes;
        InputWidth = width;
        InputHeight = height;
        ClassNames = classNames;
        Arithmetic = arithmetic;
    }

    /// <summary>Wraps a trained model and its class names (eval mode).</summary>
    public YoloDetector(YoloNet model, IReadOnlyList<string> classNames, ModelConfig? config = null)
        : this(new TorchYoloEngine(model, x => model.HeadMaps(model.call(x)), model.Heads.Select(h => h.Anchors).ToList(), model.Classes,
                model.InputSize, model.InputSize, YoloNet.MaxLogSize),
            model.Classes, model.InputSize, model.InputSize, classNames, DetectorArithmetic.SharpVision, "the detector has")
    {
        Model = model;
        Config = config;
    }

    /// <summary>The trained model, or null for a Darknet network or an ONNX export.</summary>
    public YoloNet? Model { get; }
    /// <summary>The network (a <see cref="YoloNet"/> or a <see cref="DarknetNetwork"/>), in eval mode.</summary>
    /// <exception cref="InvalidOperationException">An ONNX detector (<see cref="IsOnnx"/>): it has no TorchSharp network.</exception>
    public nn.Module Network => _torch?.Network ?? throw new InvalidOperationException("an ONNX detector runs on ONNX Runtime and has no TorchSharp network");

    /// <summary>True when the network runs on ONNX Runtime (loaded from a <c>.onnx</c> export by <see cref="LoadOnnx"/>).</summary>
    public bool IsOnnx => _torch is null;
    /// <summary>Class names, index = class id.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The stored config, when loaded from a <c>.svmodel</c>.</summary>
    public ModelConfig? Config { get; }
    /// <summary>Whose letterbox, decoding and clipping rules apply.</summary>
    public DetectorArithmetic Arithmetic { get; }
    /// <summary>Network input width in pixels.</summary>
    public int InputWidth { get; }
    /// <summary>Network input height in pixels.</summary>
    public int InputHeight { get; }

    /// <summary>
    /// Images per forward when <see cref="DetectOptions.Batch"/> is null: 8, but 1 for Darknet arithmetic, as Darknet's
    /// <c>detector test</c>: a Darknet network keeps every layer's output for its routes, so memory grows with the batch.
    /// </summary>
    public int DefaultBatch => Arithmetic == DetectorArithmetic.Darknet ? 1 : 8;

    /// <summary>Boxes per image when <see cref="DetectOptions.MaxPerImage"/> is null: 100, and no limit in Darknet arithmetic (its output has none).</summary>
    public int DefaultMaxPerImage => Arithmetic == DetectorArithmetic.Darknet ? int.MaxValue : 100;

    /// <summary>The model-file config of a detector built from <paramref name="model"/>.</summary>
    public static ModelConfig ConfigFor(YoloNet model, string architecture, IReadOnlyList<string> classes) => new()
    {
        Task = "detection",
        Architecture = architecture,
        Cfg = model.CfgText,
        NumClasses = model.Classes,
        Classes = classes,
        Preprocessing = new Preprocessing { Size = model.InputSize },
    };

    /// <summary>Rebuilds a detector from its config (the cfg text).</summary>
    public static YoloNet Build(ModelConfig config)
    {
        if (config.Task != "detection" || config.Cfg is null)
            throw new ModelFileException($"the model is a {config.Task} model ({config.Architecture}), not a detector");
        return config.Cfg.StartsWith("backbone=", StringComparison.Ordinal)
            ? YoloBackboneModel.FromText(config.Cfg)
            : new YoloModel(config.Cfg, config.Architecture);
    }

    /// <summary>Loads a detector <c>.svmodel</c>.</summary>
    public static YoloDetector Load(string path)
    {
        var (config, model) = ModelFile.LoadModule(path, Build);
        return new YoloDetector(model, config.Classes, config);
    }

    /// <summary>Builds a Darknet cfg, loads its <c>.weights</c> and its class names (<see cref="ClassList"/>, like <c>coco.names</c>); Darknet arithmetic.</summary>
    public static YoloDetector LoadDarknet(string cfgPath, string weightsPath, string namesPath)
    {
        var network = DarknetNetwork.FromFile(cfgPath);
        try
        {
            DarknetWeights.Read(weightsPath, network);
            return FromDarknet(network, ClassList.Read(namesPath));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an already loaded Darknet network (Darknet arithmetic); it must end in <c>[yolo]</c> layers that agree on classes.</summary>
    public static YoloDetector FromDarknet(DarknetNetwork network, IReadOnlyList<string> classNames)
    {
        var heads = network.YoloLayers;
        string cfg = network.Config.Name + ".cfg";
        if (heads.Count == 0) throw new ModelDefinitionException($"{cfg} has no [yolo] layer: it is not a YOLOv3 detector");
        int classes = heads[0].Classes;
        if (heads.Any(h => h.Classes != classes)) throw new ModelDefinitionException($"{cfg}: [yolo] layers disagree on classes");
        var engine = new TorchYoloEngine(network, network.call, heads.Select(h => h.Anchors).ToList(), classes, network.Width, network.Height, float.PositiveInfinity);
        return new YoloDetector(engine, classes, network.Width, network.Height, classNames, DetectorArithmetic.Darknet, $"{cfg}'s [yolo] layers have");
    }

    /// <summary>
    /// Opens a detector exported to ONNX (<c>sharpvision export ... --format onnx</c>): ONNX Runtime runs the network,
    /// everything else is this class's path, in the arithmetic its metadata records. No TorchSharp call on this path.
    /// </summary>
    /// <exception cref="ModelFileException">Missing file, not a SharpVision detector export, or ONNX Runtime cannot load it.</exception>
    public static YoloDetector LoadOnnx(string path)
    {
        var info = OnnxDetectorInfo.Read(path);
        var arithmetic = info.Letterbox == OnnxDetectorInfo.DarknetLetterbox ? DetectorArithmetic.Darknet : DetectorArithmetic.SharpVision;
        var engine = new OnnxYoloEngine(path, info);
        try
        {
            return new YoloDetector(engine, info.Classes.Count, info.InputWidth, info.InputHeight, info.Classes, arithmetic, $"{path}'s metadata has");
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Detects objects in one image: boxes in image pixels, best first.</summary>
    public IReadOnlyList<DetectedObject> Detect(RgbImage image, DetectOptions? options = null) => Detect([image], options)[0];

    /// <summary>Detections of several images in image pixels, best first, one forward for the lot.</summary>
    public List<IReadOnlyList<DetectedObject>> Detect(IReadOnlyList<RgbImage> images, DetectOptions? options = null)
    {
        options ??= new DetectOptions();
        int plane = 3 * InputWidth * InputHeight;
        var data = new float[images.Count * plane];                                                               // [B, 3, H, W]
        for (int i = 0; i < images.Count; i++)
            Array.Copy(DetectorLetterbox.Input(images[i], InputWidth, InputHeight, Arithmetic), 0, data, i * plane, plane);
        var outputs = _engine.Run(data, images.Count);
        var result = new List<IReadOnlyList<DetectedObject>>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            var candidates = YoloDecoder.Candidates(outputs[i], _classes, InputWidth, InputHeight, options.Confidence);
            var corners = candidates.Select(c => DetectorLetterbox.ToImage(c, image.Width, image.Height, InputWidth, InputHeight, Arithmetic)).ToList();
            var kept = Nms.Select(corners, candidates.Select(c => c.Probabilities).ToList(), options.Confidence, options.Iou,
                clip: (image.Width, image.Height), dropEmpty: Arithmetic != DetectorArithmetic.Darknet, max: options.MaxPerImage ?? DefaultMaxPerImage);
            result.Add(kept.Select(d => new DetectedObject(d.ClassId, ClassNames[d.ClassId], d.Score, d.X1, d.Y1, d.X2, d.Y2)).ToList());
        }
        return result;
    }

    /// <summary>
    /// Runs over image files in sorted (ordinal) order; when <paramref name="outputDir"/> is given writes there the
    /// drawn images, <c>detections.txt</c> and <c>detections.json</c> (<see cref="DetectionWriter"/>). Undecodable
    /// images are skipped and listed.
    /// </summary>
    public DetectionRun Predict(IEnumerable<string> imagePaths, string? outputDir, DetectOptions? options = null)
    {
        options ??= new DetectOptions();
        var paths = imagePaths.OrderBy(p => p, StringComparer.Ordinal).ToList();
        var images = new List<ImageDetections>();
        var skipped = new List<ImageDecodeException>();
        var writer = outputDir is null ? null : new DetectionWriter(outputDir);
        int batch = options.Batch ?? DefaultBatch;
        for (int start = 0; start < paths.Count; start += batch)
        {
            var chunk = new List<(int Index, RgbImage Image)>();
            for (int i = start; i < Math.Min(paths.Count, start + batch); i++)
            {
                try { chunk.Add((i, ImageDecoder.Decode(paths[i]))); }
                catch (ImageDecodeException e) { skipped.Add(e); }
            }
            if (chunk.Count == 0) continue;
            var found = Detect(chunk.Select(c => c.Image).ToList(), options);
            for (int k = 0; k < chunk.Count; k++)
            {
                var (i, image) = chunk[k];
                // image_id is the position in sorted input order + 1, skipped files included, so ids never shift.
                var entry = new ImageDetections(paths[i], i + 1, image.Width, image.Height, found[k]);
                images.Add(entry);
                writer?.AddImage(entry, image);
            }
        }
        var run = new DetectionRun(images, skipped, ClassNames);
        writer?.Finish(run);
        return run;
    }

    /// <summary>
    /// Runs the detector over a labelled data set (confidence 0.005 unless given, so the whole precision-recall curve
    /// counts) and evaluates COCO and VOC mAP against its boxes. Image ids follow the data set's order.
    /// </summary>
    public DetectionEvalReport Evaluate(DetectionDataset data, DetectOptions? options = null)
    {
        options ??= new DetectOptions { Confidence = .005f };
        int batch = options.Batch ?? DefaultBatch;
        var images = data.Samples.Select((s, i) => new DetectionImage(i + 1, s.ImagePath)).ToList();
        var categories = ClassNames.Select((c, i) => new DetectionCategory(i + 1, c)).ToList();
        var truth = new List<GroundTruthBox>();
        var found = new List<DetectionBox>();
        for (int start = 0; start < data.Samples.Count; start += batch)
        {
            var chunk = data.Samples.Skip(start).Take(batch).ToList();
            var decoded = Detect(chunk.Select(c => ImageDecoder.Decode(c.ImagePath)).ToList(), options);
            for (int k = 0; k < chunk.Count; k++)
            {
                long id = start + k + 1;
                foreach (var b in chunk[k].Boxes)
                    truth.Add(new GroundTruthBox(id, b.ClassId + 1, b.X1, b.Y1, b.Width, b.Height) { Difficult = b.Difficult });
                foreach (var d in decoded[k])
                    found.Add(new DetectionBox(id, d.ClassId + 1, d.X1, d.Y1, d.Width, d.Height, d.Score));
            }
        }
        return DetectionEvalReport.Evaluate(new DetectionEvalData(images, categories, truth, found));
    }

    /// <inheritdoc/>
    public void Dispose() => _engine.Dispose();
}

/// <summary>What runs the network of a <see cref="YoloDetector"/>: letterboxed inputs in, decoded heads out.</summary>
internal interface IYoloEngine : IDisposable
{
    /// <summary><paramref name="count"/> inputs, planar [count, 3, H, W] in 0..1 -> the decoded heads of each.</summary>
    YoloOutputs[] Run(float[] input, int count);
}

/// <summary>A TorchSharp network (trained or Darknet): its head maps, copied to the CPU and decoded by <see cref="YoloDecoder.DecodeMaps"/>.</summary>
internal sealed class TorchYoloEngine : IYoloEngine
{
    private readonly Func<Tensor, Tensor[]> _headMaps;
    private readonly IReadOnlyList<IReadOnlyList<(float W, float H)>> _anchors;
    private readonly int _classes, _width, _height;
    private readonly float _maxLogSize;

    public TorchYoloEngine(nn.Module network, Func<Tensor, Tensor[]> headMaps, IReadOnlyList<IReadOnlyList<(float W, float H)>> anchors,
        int classes, int width, int height, float maxLogSize)
    {
        Network = network;
        _headMaps = headMaps;
        _anchors = anchors;
        _classes = classes;
        _width = width;
        _height = height;
        _maxLogSize = maxLogSize;
        network.eval();
    }

    public nn.Module Network { get; }

    public YoloOutputs[] Run(float[] input, int count)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var maps = _headMaps(tensor(input, [count, 3, _height, _width]));                                         // per head [B, A*(5+K), H, W]
        var result = new YoloOutputs[count];
        for (int i = 0; i < count; i++)
            result[i] = YoloDecoder.DecodeMaps(_anchors, _classes, YoloDecoder.CopyMaps(maps, i), _width, _height, _maxLogSize);
        return result;
    }

    public void Dispose() => Network.Dispose();
}
