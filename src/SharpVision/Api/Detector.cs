using SharpVision.Data.Detection;
using SharpVision.Evaluation;
using SharpVision.Evaluation.Detection;
using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Weights;

namespace SharpVision.Api;

/// <summary>
/// Object detection (YOLOv3) from C#, the same engine as <c>sharpvision detect train / predict / evaluate</c>:
/// <code>
/// var run = Detector.Train("train.txt", new DetectorTrainOptions { Val = "val.txt", Model = "yolov3-tiny" });
/// using var detector = Detector.Load(run.BestPath);
/// var found = detector.Predict(files);
/// var map = detector.Evaluate("val.txt");
/// </code>
/// </summary>
public sealed class Detector : IDisposable
{
    private readonly YoloDetector _detector;

    private Detector(string path, YoloDetector detector)
    {
        ModelPath = path;
        _detector = detector;
    }

    /// <summary>The model file in use.</summary>
    public string ModelPath { get; }
    /// <summary>Class names, in output order.</summary>
    public IReadOnlyList<string> Classes => _detector.ClassNames;
    /// <summary>The underlying detector (network, letterbox, decoding, NMS).</summary>
    public YoloDetector Inner => _detector;

    /// <summary>
    /// Trains a detector on <paramref name="data"/> (annotation lines, VOC folder, YOLO folder or COCO json) and writes
    /// a run folder (args.yaml, classes.txt, anchors.txt, results.csv, curves.png, weights/) at
    /// <see cref="DetectorTrainOptions.Out"/> or runs/detect/expN.
    /// </summary>
    public static DetectionTrainResult Train(string data, DetectorTrainOptions? options = null, TrainEvents? events = null,
        CancellationToken cancellationToken = default)
    {
        var s = (options ?? new DetectorTrainOptions()) with { Data = data };
        s.Validate();
        return DetectionRecipe.Train(s, events ?? TrainEvents.None, cancellationToken: cancellationToken);
    }

    /// <summary>Continues an interrupted detection run from its weights/last.svmodel (settings from its args.yaml).</summary>
    public static DetectionTrainResult Resume(string runFolder, TrainEvents? events = null, string? device = null, int? workers = null,
        CancellationToken cancellationToken = default)
    {
        var saved = ArgsYaml.Read<DetectorTrainOptions>(Path.Combine(runFolder, "args.yaml"), "sharpvision detect train");
        var s = saved with { Out = runFolder, Device = device ?? saved.Device, Workers = workers ?? saved.Workers };
        return DetectionRecipe.Train(s, events ?? TrainEvents.None, resume: true, cancellationToken);
    }

    /// <summary>
    /// Opens a detector .svmodel, a detection run folder (its weights/best.svmodel), or a detector exported to ONNX
    /// (a <c>.onnx</c> file: it runs on ONNX Runtime, without libtorch, through the same letterbox, decoder, NMS and writer).
    /// </summary>
    public static Detector Load(string modelOrRun)
    {
        if (!File.Exists(modelOrRun) && !Directory.Exists(modelOrRun))
            throw new ModelFileException($"MODEL {modelOrRun} does not exist (expected a {ModelFile.Extension} file, a run folder or an exported .onnx detector).");
        if (File.Exists(modelOrRun) && modelOrRun.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            return new Detector(modelOrRun, YoloDetector.LoadOnnx(modelOrRun));
        string path = RunFolder.ResolveModelPath(modelOrRun);
        return new Detector(path, YoloDetector.Load(path));
    }

    /// <summary>
    /// Opens a Darknet detector: its cfg, <c>.weights</c> and class names (one per line, like <c>coco.names</c>). It runs
    /// with Darknet's arithmetic (<see cref="DetectorArithmetic.Darknet"/>) through the same path as a trained model.
    /// </summary>
    public static Detector LoadDarknet(string cfg, string weights, string names) => new(weights, YoloDetector.LoadDarknet(cfg, weights, names));

    /// <summary>
    /// Checks that the class-names file <paramref name="namesFile"/> (one per line, <see cref="ClassList"/>) lists this
    /// detector's classes in the same order; a file that disagrees is refused naming both lists and the first difference.
    /// </summary>
    /// <exception cref="SharpVisionException">The names differ; the message starts with the file's path, so a caller can put its option's name first.</exception>
    public void RequireClasses(string namesFile)
    {
        var names = ClassList.Read(namesFile);
        if (names.SequenceEqual(Classes, StringComparer.Ordinal)) return;
        static string Show(IReadOnlyList<string> list) => string.Join(", ", list.Take(4)) + (list.Count > 4 ? ", ..." : "");
        string difference = "";
        if (names.Count == Classes.Count)
        {
            int i = Enumerable.Range(0, names.Count).First(j => names[j] != Classes[j]);
            difference = $"; the first difference is class {i}: '{names[i]}' in the file, '{Classes[i]}' in the model";
        }
        throw new SharpVisionException($"{namesFile} has {names.Count} names ({Show(names)}) but the model's classes are {Classes.Count} ({Show(Classes)}){difference}");
    }

    /// <summary>
    /// Boxes for each image file (in ordinal path order); with <paramref name="outputDir"/>, also drawn images,
    /// detections.txt and detections.json there. Unreadable images are listed in <see cref="DetectionRun.Skipped"/>.
    /// </summary>
    public DetectionRun Predict(IEnumerable<string> files, DetectOptions? options = null, string? outputDir = null) =>
        _detector.Predict(files, outputDir, options);

    /// <summary>
    /// Boxes on every frame of a video file, a camera (<c>/dev/video0</c>) or a stream ffmpeg opens
    /// (<see cref="VideoInference"/>): the annotated video at <see cref="VideoOptions.Output"/> and one JSON line per
    /// processed frame at <see cref="VideoOptions.JsonLines"/> (<c>{"frame", "time", "detections": [{"class_id", "class",
    /// "score", "box": [x1, y1, x2, y2]}]}</c>, pixels of the frame).
    /// </summary>
    public VideoRunResult PredictVideo(string source, VideoOptions? video = null, DetectOptions? options = null,
        IProgress<VideoProgress>? progress = null, CancellationToken cancellationToken = default) =>
        DetectionVideo.Run(source, video ?? new VideoOptions(), images => _detector.Detect(images, options), progress, cancellationToken);

    /// <summary>
    /// COCO (AP, AP50, ...) and VOC mAP on annotated data; unusable boxes are dropped and reported to
    /// <paramref name="log"/>. Default confidence 0.005 (every box counts towards the precision-recall curve).
    /// </summary>
    public DetectionEvalReport Evaluate(string data, DetectOptions? options = null, Action<string>? log = null)
    {
        var dataset = OpenData(data, Classes, "evaluation", log);
        return _detector.Evaluate(dataset, options ?? new DetectOptions { Confidence = .005f });
    }

    /// <summary>Opens and checks an annotation set: labels required, unusable boxes dropped, every problem sent to <paramref name="log"/>.</summary>
    public static DetectionDataset OpenData(string path, IReadOnlyList<string>? classes, string what = "evaluation", Action<string>? log = null) =>
        DetectionRecipe.Open(path, classes, what, log ?? (_ => { }));

    /// <summary>
    /// Fills the longest prefix of <paramref name="model"/>'s layers that the Darknet <c>.weights</c> file holds (up to
    /// the backbone's end: darknet53.conv.74 fills YOLOv3's 75 backbone layers); returns how many layers were filled.
    /// </summary>
    public static int LoadDarknetBackbone(YoloModel model, string weightsFile) => DetectionRecipe.LoadDarknetBackbone(model, weightsFile);

    /// <inheritdoc/>
    public void Dispose() => _detector.Dispose();
}
