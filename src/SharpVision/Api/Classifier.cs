using System.Text;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Training;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using TorchSharp;

namespace SharpVision.Api;

/// <summary>Where and how a loaded model runs: engine, batch size, device and loader threads.</summary>
public sealed record InferenceOptions
{
    /// <summary>
    /// What runs the network: null for the model's own engine (torch for a .svmodel or a run folder, onnxruntime for a
    /// .onnx file); torch (TorchSharp); onnxruntime (a .svmodel runs its ONNX export, written next to it, weights/best.onnx
    /// for a run folder, and reused while newer than the .svmodel); or auto: both time the first batch of the input and
    /// the faster one runs (<see cref="Classifier.ChooseEngine"/>).
    /// </summary>
    public string? Engine { get; init; }
    /// <summary>Images per forward pass.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Decoding threads (null = chosen from the cores).</summary>
    public int? Workers { get; init; }
}

/// <summary>The backbone's features per readable image, and the images that could not be read (path, reason).</summary>
public sealed record ClassifierFeatures(FeatureTable Table, IReadOnlyList<(string Path, string Reason)> Skipped);

/// <summary>One image's prediction: the best label, its score and every class's probability (in <see cref="Classifier.Classes"/> order).</summary>
public sealed record ClassPrediction(string Path, string Label, float Score, float[] Probabilities);

/// <summary>Predictions for a list of files, with the unreadable ones and why.</summary>
public sealed record ClassifierPredictions(IReadOnlyList<ClassPrediction> Images, IReadOnlyList<ImageDecodeException> Skipped, IReadOnlyList<string> Classes)
{
    /// <summary>The predictions as the table <c>sharpvision predict</c> prints and writes.</summary>
    public PredictionTable ToTable() => new(Images.Select(i => i.Path).ToList(), Images.Select(i => i.Probabilities).ToArray(), Classes);
}

/// <summary>The ONNX graph a .svmodel runs on ONNX Runtime.</summary>
/// <param name="Path">Its export next to the .svmodel (weights/best.onnx for a run folder).</param>
/// <param name="Exported">
/// Whether loading wrote that file (it was missing, older than the .svmodel, or not an export of this architecture and
/// these classes) rather than reusing it.
/// </param>
/// <param name="NotWritten">Why the file could not be written, when the graph was exported in memory instead; else null.</param>
public sealed record OnnxCache(string Path, bool Exported, string? NotWritten);

/// <summary>The engine <see cref="InferenceOptions.Engine"/> = auto settled on, and why.</summary>
/// <param name="Engine">torch or onnxruntime.</param>
/// <param name="Reason">One line: both engines' measured speeds and agreement, or why nothing was measured.</param>
/// <param name="Measured">The measurement, when both engines ran.</param>
public sealed record EngineChoice(string Engine, string Reason, EngineComparison? Measured);

/// <summary>How <see cref="Classifier.Evaluate"/> reads its data set.</summary>
public sealed record ClassifierEvaluateOptions
{
    /// <summary>auto, folders, filenames or csv.</summary>
    public string Layout { get; init; } = "auto";
    /// <summary>Filenames layout: a regex whose one group is the label.</summary>
    public string? LabelPattern { get; init; }
    /// <summary>k of the top-k accuracy (at most the number of classes).</summary>
    public int TopK { get; init; } = 5;
}

/// <summary>A classifier's scores on a labelled set: the summary (accuracy, per class, confusion matrix) and what was left out.</summary>
public sealed record ClassifierEvaluation(string ModelPath, string Data, EvaluationSummary Summary, InferenceResult Inference,
    IReadOnlyList<UnknownLabel> Unknown, ClassificationDataset Dataset)
{
    /// <summary>Overall accuracy.</summary>
    public double Accuracy => Summary.Accuracy;
    /// <summary>[actual, predicted] counts.</summary>
    public int[,] ConfusionMatrix => Summary.Report.ConfusionMatrix;

    /// <summary>
    /// Writes <c>sharpvision evaluate</c>'s folder: metrics.json, report.txt, confusion_matrix.png and (when
    /// <paramref name="topLosses"/> > 0) top_losses.png. <paramref name="extra"/> goes into metrics.json.
    /// </summary>
    public void Save(string folder, int topLosses = 16, IReadOnlyDictionary<string, string>? extra = null)
    {
        var classes = Summary.Classes;
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "metrics.json"), Summary.ToJson(extra, indented: true) + "\n");
        AtomicFile.WriteAllText(Path.Combine(folder, "report.txt"), ReportText());
        ConfusionMatrixPlot.Save(Summary.Report.ConfusionMatrix, classes, Path.Combine(folder, "confusion_matrix.png"));
        if (topLosses > 0)
        {
            var r = Inference;
            var worst = TopLosses.Select(r.Samples.Select(s => s.Path).ToList(), r.Actual, r.Probabilities, r.Losses, topLosses);
            var tiles = worst.Select(t => new ImageFileTile(t.Path, t.Caption(classes), t.Wrong ? CaptionColor.Red : CaptionColor.Black)).ToList();
            ImageFileGrid.Save(tiles, Path.Combine(folder, "top_losses.png"), columns: Math.Min(4, tiles.Count), tileSize: 160,
                title: "Top losses: predicted / actual / probability of actual");
        }
    }

    private string ReportText()
    {
        var sb = new StringBuilder();
        sb.Append($"model {ModelPath}\ndata  {Data}\n\n");
        sb.Append(Summary.ToText(4));
        if (Unknown.Count > 0)
        {
            sb.Append($"\nNot evaluated, label not among the model's classes ({Unknown.Count}):\n");
            foreach (var u in Unknown) sb.Append($"  {u.Path}  (label '{u.Label}')\n");
        }
        if (Inference.Skipped.Count > 0)
        {
            sb.Append($"\nUnreadable, skipped ({Inference.Skipped.Count}):\n");
            foreach (var s in Inference.Skipped) sb.Append($"  {s.Path}: {s.Reason}\n");
        }
        return sb.ToString();
    }
}

/// <summary>
/// Image classification from C#, the same engine as <c>sharpvision train / predict / evaluate</c>:
/// <code>
/// var run = Classifier.Train("data/train", new ClassifierTrainOptions { Model = "resnet18", Pretrained = "imagenet", FineTune = (3, 3) });
/// using var model = Classifier.Load(run.BestPath);
/// var preds = model.Predict(Directory.GetFiles("test1"));
/// var report = model.Evaluate("data/val");
/// </code>
/// </summary>
public sealed class Classifier : IDisposable
{
    /// <summary>
    /// With <see cref="InferenceOptions.Engine"/> = auto, ONNX Runtime is chosen only when its probabilities are within this
    /// of TorchSharp's on the measured batch (float32 engines agree to about 1e-6; more means a wrong graph).
    /// </summary>
    public const double EngineTolerance = 1e-3;

    private const string Auto = "auto", Torch = "torch", OnnxRuntime = "onnxruntime";
    private static readonly string[] Engines = [Auto, Torch, OnnxRuntime];
    private static readonly string EngineOption = $"{nameof(InferenceOptions)}.{nameof(InferenceOptions.Engine)}";

    private readonly ImageClassifier? _model;
    private OnnxClassifier? _onnx;
    private readonly InferenceOptions _options;
    private readonly torch.Device? _device;
    private readonly int _workers;

    private Classifier(string path, ModelConfig? config, ImageClassifier? model, OnnxClassifier? onnx, string engine, EngineChoice? choice,
        OnnxCache? cache, InferenceOptions options)
    {
        ModelPath = path;
        Config = config;
        _model = model;
        _onnx = onnx;
        Engine = engine;
        EngineChoice = choice;
        OnnxCache = cache;
        _options = options;
        Classes = config?.Classes ?? onnx!.Classes;
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, options.Workers);
        _workers = plan.Workers;
        if (model is not null)
        {
            torch.set_num_threads(plan.TorchThreads);
            _device = Devices.Resolve(options.Device);
        }
    }

    /// <summary>The model file in use (a run folder resolves to its weights/best.svmodel).</summary>
    public string ModelPath { get; }
    /// <summary>The model's config (architecture, classes, preprocessing); null for an ONNX model.</summary>
    public ModelConfig? Config { get; }
    /// <summary>Class names, in output order.</summary>
    public IReadOnlyList<string> Classes { get; }
    /// <summary>The network (null for an ONNX model, which runs in ONNX Runtime).</summary>
    public ImageClassifier? Network => _model;
    /// <summary>What runs predictions: torch or onnxruntime; auto until <see cref="ChooseEngine"/> (or the first prediction) has measured.</summary>
    public string Engine { get; private set; }
    /// <summary>What <see cref="InferenceOptions.Engine"/> = auto chose and why; null for an engine given by name, and until chosen.</summary>
    public EngineChoice? EngineChoice { get; private set; }
    /// <summary>The ONNX export ONNX Runtime runs for a .svmodel (engine onnxruntime or auto); null otherwise.</summary>
    public OnnxCache? OnnxCache { get; }

    /// <summary>
    /// Trains a classifier on <paramref name="data"/> and writes a run folder (args.yaml, classes.txt, results.csv,
    /// curves.png, weights/best and last.svmodel) at <see cref="ClassifierTrainOptions.Out"/> or runs/train/expN.
    /// <paramref name="cancellationToken"/> stops it within one step: completed epochs' files stay, the current weights go
    /// to weights/interrupted.svmodel, and <see cref="TrainingCanceledException"/> is thrown.
    /// </summary>
    public static TrainResult Train(string data, ClassifierTrainOptions? options = null, TrainEvents? events = null, CancellationToken cancellationToken = default)
    {
        var s = (options ?? new ClassifierTrainOptions()) with { Data = data };
        if (s.FineTune is { } ft) s = s with { Epochs = ft.Frozen + ft.Unfrozen };
        s.Validate();
        return ClassificationRecipe.Train(s, events ?? TrainEvents.None, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Continues an interrupted run from its weights/last.svmodel: weights, optimizer, epoch, learning rate, random
    /// state and callback counters; settings come from its args.yaml, except where it runs (<paramref name="device"/>,
    /// <paramref name="workers"/>). A finished run returns at once with an empty history.
    /// </summary>
    public static TrainResult Resume(string runFolder, TrainEvents? events = null, string? device = null, int? workers = null,
        CancellationToken cancellationToken = default)
    {
        var saved = ArgsYaml.Read<ClassifierTrainOptions>(Path.Combine(runFolder, "args.yaml"), "sharpvision train");
        var s = saved with { Out = runFolder, Device = device ?? saved.Device, Workers = workers ?? saved.Workers };
        return ClassificationRecipe.Train(s, events ?? TrainEvents.None, resume: true, cancellationToken);
    }

    /// <summary>
    /// The learning-rate range test (<c>sharpvision lr-find</c>): the data, model, freezing and optimizer
    /// <see cref="Train"/> would use, swept from <paramref name="start"/> to <paramref name="end"/>; the plot goes to <paramref name="png"/>.
    /// </summary>
    public static LrFindResult FindLearningRate(string data, ClassifierTrainOptions options, double start, double end, int steps, string png, TrainEvents? events = null,
        CancellationToken cancellationToken = default)
    {
        var s = options with { Data = data };
        s.Validate();
        return ClassificationRecipe.LrFind(s, start, end, steps, png, events ?? TrainEvents.None, cancellationToken);
    }

    /// <summary>
    /// Opens a .svmodel file, a run folder (its weights/best.svmodel) or an exported .onnx classifier, to run on the engine
    /// <see cref="InferenceOptions.Engine"/> names. For onnxruntime or auto a .svmodel is exported to ONNX next to itself
    /// (<see cref="OnnxCache"/>); with auto, a model the ONNX writer cannot express runs on torch (<see cref="EngineChoice"/> says why).
    /// </summary>
    /// <exception cref="InvalidOptionException">An unknown engine, or torch for a .onnx file.</exception>
    /// <exception cref="OnnxExportException">onnxruntime for a model the ONNX writer cannot express.</exception>
    public static Classifier Load(string modelOrRun, InferenceOptions? options = null)
    {
        options ??= new InferenceOptions();
        if (options.Batch < 1) throw new InvalidOptionException($"{nameof(InferenceOptions)}.{nameof(InferenceOptions.Batch)}", "an integer >= 1", options.Batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (options.Engine is { } named && !Engines.Contains(named, StringComparer.Ordinal))
            throw new InvalidOptionException(EngineOption, "one of " + string.Join(", ", Engines), named);
        if (modelOrRun.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (options.Engine == Torch)
                throw new InvalidOptionException(EngineOption,
                    $"onnxruntime or auto for an .onnx model (TorchSharp cannot run an ONNX graph; give the {ModelFile.Extension} file or run folder it was exported from to run on torch)",
                    $"{Torch} with MODEL {modelOrRun}");
            if (!File.Exists(modelOrRun)) throw new ModelFileException($"MODEL {modelOrRun} does not exist.");
            var only = options.Engine == Auto ? new EngineChoice(OnnxRuntime, "an .onnx model runs on ONNX Runtime only; nothing to compare", null) : null;
            return new Classifier(modelOrRun, null, null, new OnnxClassifier(modelOrRun), OnnxRuntime, only, null, options);
        }
        if (!File.Exists(modelOrRun) && !Directory.Exists(modelOrRun))
            throw new ModelFileException($"MODEL {modelOrRun} does not exist (expected a {ModelFile.Extension} file or a run folder).");
        string path = RunFolder.ResolveModelPath(modelOrRun);
        var (config, model) = ModelFile.Load(path);
        string engine = options.Engine ?? Torch;
        OnnxClassifier? onnx = null;
        OnnxCache? cache = null;
        EngineChoice? choice = null;
        try
        {
            // ONNX Runtime gets as many threads as libtorch would: the loader's workers decode beside either.
            if (engine != Torch) (onnx, cache) = OpenOnnx(model, config, path, ThreadPlan.Choose(Environment.ProcessorCount, options.Workers).TorchThreads);
        }
        catch (OnnxExportException e) when (engine == Auto)
        {
            engine = Torch;
            choice = new EngineChoice(Torch, $"this model has no ONNX export ({e.Message})", null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new Classifier(path, config, model, onnx, engine, choice, cache, options);
    }

    /// <summary>
    /// With <see cref="InferenceOptions.Engine"/> = auto, settles the engine on <paramref name="files"/>, the input about to be
    /// predicted: both engines run its first batch (<see cref="EngineComparison.Measure"/>: the same preprocessed floats,
    /// a warm-up and two timed passes each), and the faster one is kept, ONNX Runtime only if its probabilities are within
    /// <see cref="EngineTolerance"/> of TorchSharp's. <see cref="Predict(IEnumerable{string}, CancellationToken)"/> and
    /// <see cref="Evaluate"/> call it when still undecided; call it first to learn the choice before a long run. Decides
    /// once; returns <see cref="EngineChoice"/> (null when the engine was given by name).
    /// </summary>
    public EngineChoice? ChooseEngine(IEnumerable<string> files, CancellationToken cancellationToken = default)
    {
        if (Engine == Auto)
            Choose(new ClassificationDataset(files.Take(_options.Batch).Select(f => new ImageSample(f, 0)).ToList(), Classes), cancellationToken);
        return EngineChoice;
    }

    private void Choose(ClassificationDataset data, CancellationToken cancellationToken)
    {
        var measured = EngineComparison.Measure(_model!, _onnx!, Config!.Preprocessing, data, _options.Batch, _device!, _workers, cancellationToken);
        string engine, reason;
        if (measured is not { } m)
        {
            engine = Torch;
            reason = $"none of the first {Math.Min(data.Count, _options.Batch)} files could be read to time the engines on; torch runs";
        }
        else
        {
            string speeds = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"torch {m.TorchImagesPerSecond:F1} img/s, onnxruntime {m.OnnxRuntimeImagesPerSecond:F1} img/s on a batch of {m.Images} images of the input");
            bool agree = m.MaxProbabilityDifference <= EngineTolerance;
            engine = agree && m.OnnxRuntimeImagesPerSecond > m.TorchImagesPerSecond ? OnnxRuntime : Torch;
            reason = agree
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{speeds}; probabilities agree within {m.MaxProbabilityDifference:0.0e+0}")
                : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{speeds}; but their probabilities differ by up to {m.MaxProbabilityDifference:0.0e+0} (more than {EngineTolerance:0e+0}; best class differs on {m.Top1Differences}), so torch, the reference, runs");
        }
        Engine = engine;
        EngineChoice = new EngineChoice(engine, reason, measured);
        if (engine == Torch)
        {
            _onnx!.Dispose();
            _onnx = null;
        }
    }

    /// <summary>
    /// ONNX Runtime's copy of the .svmodel at <paramref name="modelPath"/>: its export next to it (what <c>sharpvision
    /// export</c> writes by default), reused while newer than the .svmodel and of the same architecture and classes, else
    /// exported again (atomically); exported in memory when that file cannot be written (a read-only folder).
    /// </summary>
    private static (OnnxClassifier, OnnxCache) OpenOnnx(ImageClassifier model, ModelConfig config, string modelPath, int threads)
    {
        string onnxPath = Path.ChangeExtension(modelPath, ".onnx");
        if (File.Exists(onnxPath) && File.GetLastWriteTimeUtc(onnxPath) > File.GetLastWriteTimeUtc(modelPath))
        {
            try
            {
                var cached = new OnnxClassifier(onnxPath, threads);
                if (cached.Info.Architecture == config.Architecture && cached.Classes.SequenceEqual(config.Classes, StringComparer.Ordinal))
                    return (cached, new OnnxCache(onnxPath, Exported: false, NotWritten: null));
                cached.Dispose(); // another model's export: write ours over it
            }
            catch (ModelFileException)
            {
                // Not a SharpVision export (or a damaged one): write ours over it.
            }
        }
        model.eval();
        try
        {
            OnnxExporter.Export(model, config, onnxPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (new OnnxClassifier(OnnxExporter.Build(model, config), onnxPath, threads), new OnnxCache(onnxPath, Exported: false, NotWritten: e.Message));
        }
        return (new OnnxClassifier(onnxPath, threads), new OnnxCache(onnxPath, Exported: true, NotWritten: null));
    }

    /// <summary>Label and probabilities for each readable file, in order; unreadable files are listed in <see cref="ClassifierPredictions.Skipped"/>.</summary>
    /// <remarks><paramref name="cancellationToken"/> stops it between batches (<see cref="OperationCanceledException"/>).</remarks>
    public ClassifierPredictions Predict(IEnumerable<string> files, CancellationToken cancellationToken = default)
    {
        var list = files.ToList();
        // Labels are unknown: every sample gets class 0, which only affects the (unused) losses.
        var data = new ClassificationDataset(list.Select(f => new ImageSample(f, 0)).ToList(), Classes);
        var result = Run(data, cancellationToken);
        var images = result.Samples.Select((sample, i) =>
        {
            var p = result.Probabilities[i];
            int best = result.Predicted[i];
            return new ClassPrediction(sample.Path, Classes[best], p[best], p);
        }).ToList();
        return new ClassifierPredictions(images, result.Skipped, Classes);
    }

    /// <summary>
    /// Class probabilities [N][K] of images already in memory (video frames, camera images): each is resized to the
    /// model's input size with its interpolation and normalised, as <see cref="Predict(IEnumerable{string}, CancellationToken)"/>
    /// does after decoding a file; one forward for the lot. Runs on ONNX Runtime when that is the engine, else on torch
    /// (with engine auto, torch: there are no files to time both on).
    /// </summary>
    public float[][] Predict(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) return [];
        if (_model is null || Engine == OnnxRuntime) return _onnx!.Predict(images);
        var pre = Config!.Preprocessing;
        var data = pre.Batch(images);                                                                           // [N, C, S, S]
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _model.to(_device!).eval();
        var probs = ClassifierInference.Probabilities(_model.call(torch.tensor(data, [images.Count, pre.Channels, pre.Size, pre.Size]).to(_device!))).cpu(); // [N, K]
        int k = (int)probs.shape[1];
        var flat = probs.data<float>().ToArray();
        return Enumerable.Range(0, images.Count).Select(i => flat.AsSpan(i * k, k).ToArray()).ToArray();
    }

    /// <summary>
    /// Top-<paramref name="topK"/> classes on every <see cref="VideoOptions.Stride"/>th frame of a video file, a camera
    /// (<c>/dev/video0</c>) or a stream (<see cref="VideoInference"/>): one JSON line per processed frame
    /// (<c>{"frame", "time", "top": [{"class_id", "class", "score"}]}</c>) and, with <see cref="VideoOptions.Output"/>,
    /// the video with the best label drawn on each frame.
    /// </summary>
    public VideoRunResult PredictVideo(string source, VideoOptions? video = null, int topK = 1, IProgress<VideoProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var options = video ?? new VideoOptions();
        return ClassificationVideo.Run(source, options with { Batch = video is null ? _options.Batch : options.Batch }, Predict, Classes, topK, progress, cancellationToken);
    }

    /// <summary>Label and probabilities for one file.</summary>
    public ClassPrediction Predict(string file)
    {
        var r = Predict([file]);
        return r.Images.Count == 1 ? r.Images[0] : throw r.Skipped[0];
    }

    /// <summary>
    /// Scores the model on a labelled set (folder per class, label.N.jpg files or a CSV): accuracy, loss, top-k,
    /// per class and the confusion matrix. Images whose label the model does not know are counted in
    /// <see cref="ClassifierEvaluation.Unknown"/>; <paramref name="log"/> gets the warnings.
    /// </summary>
    public ClassifierEvaluation Evaluate(string data, ClassifierEvaluateOptions? options = null, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ClassifierEvaluateOptions();
        if (options.TopK < 1) throw new InvalidOptionException($"{nameof(ClassifierEvaluateOptions)}.{nameof(ClassifierEvaluateOptions.TopK)}", "an integer >= 1", options.TopK.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Read the set with its own labels, then map them to the model's classes: images the model cannot
        // know are then listed by path instead of vanishing inside the reader.
        var layout = options.Layout == "auto" ? DatasetLayouts.Detect(data) : DatasetLayouts.Parse(options.Layout);
        var aligned = ModelClassAlignment.Align(DatasetLayouts.Load(layout, data, options.LabelPattern), Classes);
        var dataset = aligned.Data;
        foreach (var w in dataset.Warnings) log?.Invoke($"warning: {w}");
        if (ModelClassAlignment.Describe(aligned.Unknown) is { } unknownLine) log?.Invoke($"warning: {unknownLine}");
        if (dataset.Count == 0)
            throw new DatasetException($"no image in {data} has a label among the model's classes ({string.Join(", ", Classes)}).");
        DatasetScan.Scan(dataset, forTraining: false);

        var result = Run(dataset, cancellationToken);
        foreach (var s in result.Skipped) log?.Invoke($"skipped {s.Message}");
        if (result.Samples.Count == 0)
            throw new DatasetException($"none of the {dataset.Count} images in {data} could be read.");
        var summary = EvaluationSummary.Compute(result.Actual, result.Predicted, result.Probabilities, Classes,
            options.TopK, aligned.Unknown.Count, result.Skipped.Count);
        return new ClassifierEvaluation(ModelPath, data, summary, result, aligned.Unknown, dataset);
    }

    /// <summary>
    /// The backbone's features (everything below the head, eval mode) for every image of <paramref name="data"/> (a folder
    /// per class, label.N.jpg files or a CSV), one row per readable image; unreadable ones are listed in
    /// <see cref="ClassifierFeatures.Skipped"/>. Write them with <see cref="FeatureExport.Write"/>.
    /// </summary>
    /// <remarks><paramref name="cancellationToken"/> stops it between batches (<see cref="OperationCanceledException"/>).</remarks>
    public ClassifierFeatures ExtractFeatures(string data, string layout = "auto", string? labelPattern = null, CancellationToken cancellationToken = default)
    {
        if (_model is null) throw new ModelFileException($"{ModelPath}: an ONNX model has no backbone to run apart from its head; use the .svmodel file.");
        if (!File.Exists(data) && !Directory.Exists(data))
            throw new DatasetException($"DATA {data} does not exist (expected a folder or a CSV file).");
        var dataset = DatasetLayouts.Load(layout == "auto" ? DatasetLayouts.Detect(data) : DatasetLayouts.Parse(layout), data, labelPattern);
        var pre = Config!.Preprocessing;
        var loader = new DataLoader(dataset, ImagePipeline.Create(pre), pre,
            new DataLoaderOptions { BatchSize = _options.Batch, Shuffle = false, Workers = _workers });
        var table = FeatureExport.Extract(_model, loader, _device, cancellationToken);
        return new ClassifierFeatures(table, loader.SkippedFiles);
    }

    private InferenceResult Run(ClassificationDataset data, CancellationToken cancellationToken)
    {
        if (Engine == Auto) Choose(new ClassificationDataset(data.Samples.Take(_options.Batch).ToList(), data.Classes), cancellationToken);
        // A .onnx file: decoded on this thread, so that libtorch is never loaded.
        if (_model is null) return ClassifierInference.Run(_onnx!, data, _options.Batch, cancellationToken: cancellationToken);
        return Engine == OnnxRuntime
            ? ClassifierInference.RunOnLoader(_onnx!, data, _options.Batch, _workers, cancellationToken: cancellationToken)
            : ClassifierInference.Run(_model, Config!.Preprocessing, data, _options.Batch, _device!, _workers, cancellationToken: cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
    }
}
