using SharpVision.Evaluation.Detection;
using System.Globalization;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Training.Detection;
using SharpVision.Weights;
using SharpVision.Weights.Pretrained;
using TorchSharp;

namespace SharpVision.Api;

/// <summary>What a detection run reports back.</summary>
public sealed record DetectionTrainResult(string RunDir, History History, ModelConfig Config, double? BestMap50)
{
    /// <summary>weights/best.svmodel (best val_map50, or lowest loss without validation data).</summary>
    public string BestPath => Path.Combine(RunDir, "weights", "best" + ModelFile.Extension);
    /// <summary>weights/last.svmodel (the last finished epoch, with the state <see cref="Detector.Resume"/> continues from).</summary>
    public string LastPath => Path.Combine(RunDir, "weights", "last" + ModelFile.Extension);
}

/// <summary>
/// <c>detect train</c>: annotations -> detection data set -> letterbox/jitter loader -> YOLOv3 -> trainer (keras-yolo3
/// loss) -> run folder (results.csv with loss parts and val_map50, weights/best.svmodel by val_map50, last.svmodel).
/// </summary>
internal static class DetectionRecipe
{
    /// <summary>The results.csv columns.</summary>
    public static readonly IReadOnlyList<string> Columns =
        [LogNames.Loss, DetectionTask.LossXy, DetectionTask.LossWh, DetectionTask.LossObj, DetectionTask.LossCls, "val_" + DetectionTask.Map50, LogNames.LearningRate, LogNames.Seconds];

    /// <summary>
    /// Trains a detector as <paramref name="s"/> says, reporting to <paramref name="events"/>; with <paramref name="resume"/>,
    /// continues the run in <see cref="DetectorTrainOptions.Out"/> from its last checkpoint (weights, anchors.txt,
    /// optimizer state, epoch, learning rate, best val_map50, early-stopping counters, random state, stage).
    /// </summary>
    public static DetectionTrainResult Train(DetectorTrainOptions s, TrainEvents events, bool resume = false, CancellationToken cancellationToken = default)
    {
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, s.Workers);
        torch.set_num_threads(plan.TorchThreads);
        torch.manual_seed(s.Seed);

        // On resume the folder is opened (and locked) first: its checkpoint decides whether there is anything to do.
        RunFolder? resumed = null;
        TrainingState? state = null;
        int totalEpochs = s.TotalEpochs;
        if (resume)
        {
            string dir = s.Out ?? throw new ArgumentException("resume needs the run folder in Out.", nameof(s));
            resumed = RunFolder.Open(dir, resume: true);
            try
            {
                state = RunResume.ReadState(resumed);
                if (RunResume.IsFinished(state, totalEpochs))
                {
                    events.Log(RunResume.FinishedMessage(dir, state, totalEpochs));
                    var finished = new DetectionTrainResult(resumed.Path, new History(), ModelFile.ReadConfig(resumed.LastModel), BestOf(state));
                    resumed.Dispose();
                    return finished;
                }
            }
            catch
            {
                resumed.Dispose();
                throw;
            }
        }
        using var resumedRun = resumed;

        var classes = s.Classes is null ? null : ClassList.Read(s.Classes);
        var train = Open(s.Data, classes, "training", events.Log);
        classes ??= train.Classes;
        if (classes.Count == 0) throw new DatasetException($"{s.Data}: no class names; pass DetectorTrainOptions.Classes classes.txt");
        var val = s.Val is null ? null : Open(s.Val, classes, "validation", events.Log);

        string runDir = s.Out ?? RunFolder.NextExperiment(Path.Combine("runs", "detect"));
        YoloNet model;
        string architecture, anchorText;
        if (state is null)
        {
            var anchors = ChooseAnchors(s, train, events);
            (model, architecture) = CreateModel(s, classes.Count, anchors, events);
            anchorText = anchors.Format();
        }
        else
        {
            // The network comes whole from last.svmodel: its cfg holds the anchors exactly as trained (anchors.txt
            // rounds them to whole pixels, like keras-yolo3's file), so the next epoch sees the very same model.
            ModelConfig saved;
            (saved, model) = ModelFile.LoadModule(resumed!.LastModel, YoloDetector.Build);
            architecture = saved.Architecture;
            if (!saved.Classes.SequenceEqual(classes))
            {
                model.Dispose();
                throw new SharpVisionException($"Detector.Resume {runDir}: the data's classes ({string.Join(", ", classes)}) differ from the run's ({string.Join(", ", saved.Classes)}).");
            }
            string anchorsFile = Path.Combine(resumed.Path, "anchors.txt");
            anchorText = File.Exists(anchorsFile) ? File.ReadAllText(anchorsFile).Trim() : "as in last.svmodel";
        }
        var config = YoloDetector.ConfigFor(model, architecture, classes);
        // On the device before any optimizer holds its parameters; the trainer moves each batch there.
        var device = Devices.Resolve(s.Device);
        model.to(device);

        using var newRun = resumed is null ? RunFolder.Open(runDir, existOk: s.ExistOk) : null;
        var run = resumed ?? newRun!;
        if (state is null)
        {
            ClassList.Write(run.ClassesTxt, classes);
            AtomicFile.WriteAllText(Path.Combine(run.Path, "anchors.txt"), anchorText + "\n");
            AtomicFile.WriteAllText(run.ArgsYaml, ArgsYaml.Write(s with
            {
                // Absolute paths, so --resume works from any working directory.
                Out = run.Path, Data = Path.GetFullPath(s.Data), Val = s.Val is null ? null : Path.GetFullPath(s.Val),
                Classes = s.Classes is null ? null : Path.GetFullPath(s.Classes), Augment = s.Augment ?? BoxAugmentOptions.Recommended,
            }));
        }
        else
        {
            // A run killed after logging an epoch but before its checkpoint repeats that epoch, which must appear once.
            RunResume.TruncateRows(run.ResultsCsv, state.EpochsCompleted);
            events.Log($"Resuming {runDir} after epoch {state.EpochsCompleted} of {totalEpochs} (learning rate {state.LearningRate:G4}).");
        }
        events.Log($"Model: {architecture} ({model.parameters().Sum(p => p.numel()):N0} parameters), input {model.InputSize}x{model.InputSize}, {classes.Count} classes, anchors {anchorText}" +
                   (s.Precision == Precision.Bf16 ? "; bf16 mixed precision (float32 weights, validation and saved models)" : ""));
        events.Log($"Run folder: {run.Path}");

        var trainLoader = new DetectionLoader(train, model.InputSize, new DetectionLoaderOptions
        { BatchSize = s.Batch, Seed = s.Seed, Workers = plan.Workers, Augment = (s.Augment ?? BoxAugmentOptions.Recommended).Validate() });
        var valLoader = val is null ? null : new DetectionLoader(val, model.InputSize, new DetectionLoaderOptions
        { BatchSize = s.Batch, Shuffle = false, Seed = s.Seed, Workers = plan.Workers });

        var task = new DetectionTask(model, classes) { MultiScale = s.MultiScale, Seed = s.Seed };
        string monitor = valLoader is null ? LogNames.Loss : "val_" + DetectionTask.Map50;
        var mode = valLoader is null ? MonitorMode.Min : MonitorMode.Max;
        var best = new ModelCheckpoint(run.BestModel, (path, _) => ModelFile.Save(path, model, config), monitor: monitor, mode: mode, saveBestOnly: true);
        // Stage 2 of FineTune: every layer at a tenth of the rate (keras-yolo3's train.py: 1e-3 frozen, then 1e-4).
        var stages = TrainStages.Plan(s.FineTune, s.Epochs);
        var backboneParameters = model.BackboneParameters().ToList();
        // Drawn with the CPU inference path, so only for a model that trains there.
        Callback[] samples = val is null || device.type != DeviceType.CPU ? []
            : [new ValidationSamples(model, classes, val.Samples.Take(ValidationSamples.Count).Select(v => v.ImagePath).ToList(), Path.Combine(run.Path, ValidationSamples.FileName))];
        var runner = new StageRunner(run, model, config, best, events, RunStatus.Detection, totalEpochs);
        var history = TrainStages.Run(stages, state?.EpochsCompleted ?? 0, (stage, initialEpoch) =>
        {
            double lr = stage.Number == 2 ? s.Lr / 10 : s.Lr;
            foreach (var p in model.parameters()) p.requires_grad = true;
            if (stage.FrozenBackbone) foreach (var p in backboneParameters) p.requires_grad = false;
            if (stage.Number != 0)
                events.Log(stage.FrozenBackbone ? $"Stage 1: {stage.Epochs} epochs with the backbone ({backboneParameters.Sum(p => p.numel()):N0} parameters) frozen, lr {lr:G3}"
                                                : $"Stage 2: {stage.Epochs} epochs with every layer trainable, lr {lr:G3}");
            using var optimizer = OptimizerFactory.Create("adam", model.parameters().Where(p => p.requires_grad), lr, 0, false, 0);
            // Early stopping counts within a stage.
            var named = new Dictionary<string, Callback>();
            if (s.Patience is { } patience) named["early_stopping"] = new EarlyStopping(monitor: monitor, mode: mode, patience: patience, restoreBestWeights: false);
            var h = runner.Run(new StageRunner.Stage
            {
                Plan = stage,
                InitialEpoch = initialEpoch,
                Options = new TrainOptions { Epochs = stage.End, InitialEpoch = initialEpoch, LearningRate = lr, Optimizer = "adam", Task = task, StepsPerEpoch = trainLoader.BatchesPerEpoch, Device = device, Precision = s.Precision },
                Optimizer = optimizer,
                Trained = model,
                TrainBatches = trainLoader.Epoch,
                ValBatches = valLoader is null ? null : () => valLoader.Epoch(0),
                Named = named,
                AfterNamed = [.. s.Schedule == "cosine" ? [new ShiftedCosine(stage.Start, stage.Epochs, lr)] : Array.Empty<Callback>(), .. samples],
                Columns = Columns,
                Append = initialEpoch > 0,
                Resume = state,
            }, cancellationToken);
            state = null; // only the first stage run after a resume continues from the checkpoint
            if (h.StopReason is { } reason) events.Log(reason);
            return h;
        });
        if (trainLoader.DroppedBoxes > 0)
            events.Log($"{trainLoader.DroppedBoxes} box(es) dropped over all epochs: augmentation left them under one pixel inside the input.");
        foreach (var (path, reason) in trainLoader.SkippedFiles.Take(20)) events.Log($"skipped unreadable image {path}: {reason}");
        model.Dispose();
        return new DetectionTrainResult(run.Path, history, config, best.Best);
    }

    private static double? BestOf(TrainingState state) =>
        state.Callbacks.TryGetValue("best_checkpoint", out var best) && best.TryGetValue("best", out var value) ? value : null;

    /// <summary>Opens and checks an annotation set: labels required, unusable boxes dropped with a count.</summary>
    public static DetectionDataset Open(string path, IReadOnlyList<string>? classes, string what, Action<string> log)
    {
        var data = DetectionData.Open(path, null, null);
        if (classes is not null) data = data with { Classes = classes };
        data.RequireLabels();
        int before = data.BoxCount;
        data = data.WithUsableBoxes();
        log($"{char.ToUpperInvariant(what[0])}{what[1..]}: {data.Samples.Count} images, {data.BoxCount} boxes from {path}" +
                      (before != data.BoxCount ? $" ({before - data.BoxCount} unusable boxes dropped)" : ""));
        // Every skipped box or line by file and line, so a bad annotation is found without `detect check`.
        var problems = data.Issues.Where(i => !i.IsInformational).ToList();
        foreach (var issue in problems.Take(20)) log($"warning: {issue}");
        if (problems.Count > 20) log($"warning: ... and {problems.Count - 20} more (`sharpvision detect check {path}` lists them all)");
        return data;
    }

    private static IReadOnlyList<(float W, float H)> ChooseAnchors(DetectorTrainOptions s, DetectionDataset train, TrainEvents events)
    {
        int count = s.Model.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase) ? 0 : YoloCfg.AnchorCount(s.Model);
        if (s.Anchors is { } file)
        {
            var numbers = File.ReadAllText(file).Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
                .Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
            if (numbers.Length % 2 != 0 || (count > 0 && numbers.Length != 2 * count))
                throw new InvalidOptionException(DetectorTrainOptions.Name(nameof(DetectorTrainOptions.Anchors)), $"a file of {count} w,h pairs", $"{file} ({numbers.Length} numbers)");
            return Enumerable.Range(0, numbers.Length / 2).Select(i => (numbers[2 * i], numbers[2 * i + 1])).OrderBy(a => a.Item1 * a.Item2).ToList();
        }
        if (count == 0) return [];
        var (sizes, _) = Anchors.BoxSizes(train, s.ImgSize);
        if (sizes.Count < count) return YoloCfg.DefaultAnchors(s.Model, s.ImgSize);
        var k = Anchors.KMeans(sizes, count, s.Seed);
        events.Log($"Anchors: k-means on {sizes.Count} training boxes (mean IoU {k.MeanIoU:0.###}).");
        return k.Anchors.OrderBy(a => a.W * a.H).ToList();
    }

    private static (YoloNet Model, string Architecture) CreateModel(DetectorTrainOptions s, int classes, IReadOnlyList<(float W, float H)> anchors, TrainEvents events)
    {
        YoloNet model;
        string architecture;
        if (s.Model.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(s.Model)) throw new InvalidOptionException(DetectorTrainOptions.Name(nameof(DetectorTrainOptions.Model)), "an existing .cfg file", s.Model);
            model = new YoloModel(File.ReadAllText(s.Model), Path.GetFileNameWithoutExtension(s.Model));
            if (model.Classes != classes) throw new ModelDefinitionException($"{s.Model}: its [yolo] layers have classes={model.Classes} but the data has {classes} classes");
            architecture = Path.GetFileNameWithoutExtension(s.Model);
        }
        else if (DetectorRegistry.Contains(s.Model))
        {
            model = DetectorRegistry.Create(s.Model, new DetectorOptions(classes, s.ImgSize, anchors));
            architecture = s.Model;
        }
        else if (s.Model.StartsWith(YoloBackboneModel.Prefix, StringComparison.Ordinal) && ModelRegistry.Contains(s.Model[YoloBackboneModel.Prefix.Length..]))
        {
            string backbone = s.Model[YoloBackboneModel.Prefix.Length..];
            ImageClassifier classifier;
            if (s.Pretrained is { } source && PretrainedWeights.Sources.Contains(source))
            {
                backbone = PretrainedWeights.ArchitectureFor(backbone, source);
                classifier = ModelRegistry.Create(backbone, new ModelOptions(1000, s.ImgSize));
                PretrainedWeights.Load(source, classifier);
                events.Log($"DetectorTrainOptions.Pretrained {source}: {backbone} backbone with ImageNet weights (shipped with SharpVision), new {classes}-class YOLOv3 head.");
            }
            else
            {
                classifier = ModelRegistry.Create(backbone, new ModelOptions(1000, s.ImgSize));
            }
            model = new YoloBackboneModel(backbone, classifier, classes, s.ImgSize, anchors);
            architecture = YoloBackboneModel.Prefix + backbone;
        }
        else
            throw new InvalidOptionException(DetectorTrainOptions.Name(nameof(DetectorTrainOptions.Model)), $"one of {string.Join(", ", DetectorRegistry.Names)}, yolov3-<backbone> (a registered ResNet: {string.Join(", ", ModelRegistry.Names.Where(n => n.StartsWith("resnet", StringComparison.Ordinal)))}) or a .cfg file", s.Model);

        if (s.Pretrained is { } weightsFile && !PretrainedWeights.Sources.Contains(weightsFile))
        {
            if (model is not YoloModel darknet)
                throw new InvalidOptionException(DetectorTrainOptions.Name(nameof(DetectorTrainOptions.Pretrained)), $"{string.Join(", ", PretrainedWeights.Sources)} for a yolov3-<backbone> model", weightsFile);
            if (!weightsFile.EndsWith(".weights", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOptionException(DetectorTrainOptions.Name(nameof(DetectorTrainOptions.Pretrained)), "a Darknet .weights file (backbone layers)", weightsFile);
            int loaded = LoadDarknetBackbone(darknet, weightsFile);
            events.Log($"DetectorTrainOptions.Pretrained {weightsFile}: loaded the first {loaded} layers (backbone) from the Darknet weights.");
        }
        if (s.Weights is { } full)
        {
            var (cfg, loaded) = ModelFile.LoadModule(full, YoloDetector.Build);
            StateDicts.LoadStrict(model, loaded.state_dict(), full);
            loaded.Dispose();
            events.Log($"Loaded every weight from {full} ({cfg.Architecture}).");
        }
        return (model, architecture);
    }

    /// <summary>
    /// Fills the longest prefix of the model's layers, up to the last one before the first head's output
    /// convolution, that the <c>.weights</c> file holds (darknet53.conv.74 fills YOLOv3's 75 backbone layers).
    /// </summary>
    internal static int LoadDarknetBackbone(YoloModel model, string path)
    {
        long available = new FileInfo(path).Length;
        var config = model.Network.Config;
        int limit = model.BackboneLayerCount();
        int best = 0;
        for (int n = 1; n <= limit; n++)
        {
            using var probe = new DarknetNetwork(config, n);
            // The header is 20 bytes for today's files, 16 for old ones; either way the payload must fit.
            if (DarknetWeights.PayloadBytes(probe) + 16 <= available) best = n;
        }
        if (best == 0 || !config.Layers.Take(best).Any(l => l.Type is "convolutional" or "conv"))
            throw new ModelFileException($"{path}: holds no whole convolution of {config.Name}'s backbone");
        using var prefix = new DarknetNetwork(config, best);
        DarknetWeights.Read(path, prefix, allowTrailing: true);
        var target = model.Network.state_dict();
        using (torch.no_grad())
            foreach (var (key, value) in prefix.state_dict())
                target[key].copy_(value);
        return best;
    }

    /// <summary>
    /// After every epoch, the boxes the model finds on the first validation images, drawn into val_predictions.png
    /// (Ultralytics' val_batch0_pred.jpg): someone watching a run sees what the detector does, not only its mAP.
    /// Four images at confidence 0.25 cost one small forward pass an epoch.
    /// </summary>
    private sealed class ValidationSamples(YoloNet model, IReadOnlyList<string> classes, IReadOnlyList<string> paths, string png) : Callback
    {
        public const int Count = 4;
        public const string FileName = "val_predictions.png";

        private List<RgbImage>? _images;

        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            _images ??= [.. paths.Select(Decode).OfType<RgbImage>()];
            if (_images.Count == 0) return;
            // The detector puts the network in eval mode; the next epoch's training pass puts it back.
            var found = new YoloDetector(model, classes).Detect(_images, new DetectOptions());
            var tiles = _images.Zip(found, (image, objects) => new GridTile(DetectionWriter.Draw(image, objects), $"{objects.Count} object(s)")).ToList();
            ImageGrid.Save(tiles, png, columns: Count, tileSize: 192,
                title: $"Validation predictions after epoch {epoch + 1} (score >= {new DetectOptions().Confidence.ToString(CultureInfo.InvariantCulture)})");
        }

        private static RgbImage? Decode(string path)
        {
            try { return ImageDecoder.Decode(path); }
            catch (ImageDecodeException) { return null; }
        }
    }

    /// <summary>Cosine decay over one stage's epochs (epoch indices continue across stages).</summary>
    private sealed class ShiftedCosine(int first, int epochs, double baseLr) : Callback
    {
        public override void OnEpochBegin(int epoch) =>
            Trainer.LearningRate = baseLr * 0.5 * (1 + Math.Cos(Math.PI * (epoch - first) / Math.Max(1, epochs)));
    }
}
