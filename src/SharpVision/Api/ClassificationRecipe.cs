using System.Globalization;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using SharpVision.Weights.Pretrained;
using TorchSharp;

namespace SharpVision.Api;

/// <summary>What a finished classification run reports back: its folder, the epochs' logs, the model's config and why it stopped early.</summary>
public sealed record TrainResult(string RunDir, History History, ModelConfig Config, string? StopReason)
{
    /// <summary>weights/best.svmodel (the best epoch by the monitored metric); may be missing when every epoch was NaN.</summary>
    public string BestPath => Path.Combine(RunDir, "weights", "best" + ModelFile.Extension);
    /// <summary>weights/last.svmodel (the last finished epoch, with the state <see cref="Classifier.Resume"/> continues from).</summary>
    public string LastPath => Path.Combine(RunDir, "weights", "last" + ModelFile.Extension);
}

/// <summary>
/// The classification recipe behind <see cref="Classifier.Train(string, ClassifierTrainOptions, TrainEvents?, CancellationToken)"/> and
/// <c>sharpvision train</c>: files -> dataset -> loader -> model -> trainer -> run folder.
/// </summary>
internal static class ClassificationRecipe
{
    /// <summary>
    /// Trains from scratch (or from <see cref="ClassifierTrainOptions.Pretrained"/> / <see cref="ClassifierTrainOptions.Weights"/>), or,
    /// with <paramref name="resume"/>, continues the run in <see cref="ClassifierTrainOptions.Out"/> from its last checkpoint:
    /// weights, optimizer state, epoch counter, learning rate, random state and callback counters.
    /// <paramref name="cancellationToken"/> stops it between steps (<see cref="TrainingCanceledException"/>).
    /// </summary>
    public static TrainResult Train(ClassifierTrainOptions s, TrainEvents events, bool resume = false, CancellationToken cancellationToken = default)
    {
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, s.Workers);
        torch.set_num_threads(plan.TorchThreads);
        torch.manual_seed(s.Seed);
        var device = Devices.Resolve(s.Device);

        // Files -> dataset (+ validation).
        var (train, val) = LoadData(s, events);
        if (val is not null)
            events.Log($"Validation: {val.Count} images" + (s.Val is null ? $" (stratified {s.ValSplit:0.##} of the data, seed {s.Seed})" : $" from {s.Val}"));

        // Run folder (locked while we write it).
        string runDir = s.Out ?? RunFolder.NextExperiment(Path.Combine("runs", "train"));
        using var run = RunFolder.Open(runDir, existOk: s.ExistOk, resume: resume);

        // Model, preprocessing and, on resume, the state to continue from.
        var augment = ReadAugment(s);
        TrainingState? state = null;
        ImageClassifier model;
        ModelConfig config;
        if (resume)
        {
            state = RunResume.ReadState(run);
            if (RunResume.IsFinished(state, s.Epochs))
            {
                events.Log(RunResume.FinishedMessage(runDir, state, s.Epochs));
                return new TrainResult(run.Path, new History(), ModelFile.ReadConfig(run.LastModel), state.StopReason);
            }
            (config, model) = ModelFile.Load(run.LastModel);
            if (!config.Classes.SequenceEqual(train.Classes))
                throw new SharpVisionException($"Classifier.Resume {runDir}: the data's classes ({string.Join(", ", train.Classes)}) differ from the run's ({string.Join(", ", config.Classes)}).");
            events.Log($"Resuming {runDir} after epoch {state.EpochsCompleted} of {s.Epochs} (learning rate {state.LearningRate:G4}).");
        }
        else
        {
            (model, config) = CreateModel(s, train, augment, events);
            AtomicFile.WriteAllText(run.ArgsYaml, ArgsYaml.Write(s with
            {
                Out = run.Path, Data = Path.GetFullPath(s.Data), Val = s.Val is null ? null : Path.GetFullPath(s.Val),
                Augment = NullIfEmpty(augment.ToSpec()), Schedule = s.ResolvedSchedule, Width = config.Width,
            }));
            Data.Detection.ClassList.Write(run.ClassesTxt, train.Classes);
        }
        var pre = config.Preprocessing;
        bool binary = config.NumClasses == 1;
        events.Log($"Model: {config.Architecture}{(config.Width is { } width ? $" width {width}" : "")} ({CountParameters(model):N0} parameters), input {pre.Size}x{pre.Size}, " +
                      $"{(binary ? "binary (sigmoid)" : $"{config.NumClasses}-class softmax")}, device {device}, {plan.Workers} loader worker(s) + {plan.TorchThreads} libtorch thread(s)" +
                      (s.Precision == Precision.Bf16 ? ", bf16 mixed precision (float32 weights, validation and saved models)" : ""));
        events.Log($"Run folder: {run.Path}");

        // Dataset -> loaders.
        var decode = new DecodeOptions { MaxPixels = s.MaxPixels };
        var trainLoader = new DataLoader(train, ImagePipeline.Create(pre, new Augmenter(augment), decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Seed = s.Seed, Workers = plan.Workers, StepsPerEpoch = s.StepsPerEpoch });
        var valLoader = val is null ? null : new DataLoader(val, ImagePipeline.Create(pre, null, decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Shuffle = false, Seed = s.Seed, Workers = plan.Workers });

        // Stages: one plain run, or FineTune (E1, E2): stage 1 = frozen backbone, stage 2 = unfrozen at layer-group rates.
        var stages = TrainStages.Plan(s.FineTune, s.Epochs);
        int done = state?.EpochsCompleted ?? 0;
        if (state is not null)
        {
            // A run killed after logging an epoch but before its checkpoint repeats that epoch, which must appear once.
            RunResume.TruncateRows(run.ResultsCsv, done);
            RunResume.TruncateRows(Path.Combine(run.Path, "steps.csv"), done);
        }
        model.to(device);
        bool append = resume && done > 0;
        // One best checkpoint over every stage: best.svmodel only improves.
        string monitor = val is null && s.Monitor.StartsWith("val_", StringComparison.Ordinal) ? s.Monitor[4..] : s.Monitor;
        var best = new ModelCheckpoint(run.BestModel, (path, _) => ModelFile.Save(path, model, config), monitor: monitor, saveBestOnly: true);
        var runner = new StageRunner(run, model, config, best, events, RunStatus.Classification, s.Epochs);
        var history = TrainStages.Run(stages, done, (stage, initialEpoch) =>
        {
            ApplyFreezing(s, stage, model, events);
            var h = RunPhase(s, stage, stages.Count > 1, runner, monitor, model, config, run, train, val, trainLoader, valLoader, augment, device, initialEpoch, state, append, events, cancellationToken);
            state = null; // only the first stage run after a resume continues from the checkpoint
            append = true; // later stages append to the same files
            return h;
        });
        string? stopReason = history.StopReason;
        ReportSkipped("training", trainLoader, events);
        if (valLoader is not null) ReportSkipped("validation", valLoader, events);
        if (stopReason is { } reason) events.Log(reason);
        model.Dispose();
        return new TrainResult(run.Path, history, config, stopReason);
    }

    /// <summary>
    /// <c>sharpvision lr-find</c>: the same data, model, freezing (phase 1 with --fine-tune) and optimizer as
    /// <see cref="Train"/> would use, swept over rates; writes <paramref name="png"/> and returns the result.
    /// </summary>
    public static LrFindResult LrFind(ClassifierTrainOptions s, double start, double end, int steps, string png, TrainEvents events,
        CancellationToken cancellationToken = default)
    {
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, s.Workers);
        torch.set_num_threads(plan.TorchThreads);
        torch.manual_seed(s.Seed);
        var device = Devices.Resolve(s.Device);
        var (train, _) = LoadData(s, events);
        var augment = ReadAugment(s);
        var (model, config) = CreateModel(s, train, augment, events);
        using var _ = model;
        var phase = TrainStages.Plan(s.FineTune, s.Epochs)[0];
        ApplyFreezing(s, phase, model, events);
        var pre = config.Preprocessing;
        var loader = new DataLoader(train, ImagePipeline.Create(pre, new Augmenter(augment), new DecodeOptions { MaxPixels = s.MaxPixels }), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Seed = s.Seed, Workers = plan.Workers });
        events.Log($"lr-find: {steps} steps of {s.Batch} images, rate {start:G2} -> {end:G2} (exponential), {s.Optimizer}" +
                   (s.Precision == Precision.Bf16 ? ", bf16 mixed precision" : "") + "; the weights are restored afterwards.");
        var result = LrFinder.Run(model, loader.Epoch, s.Optimizer, start, end, steps, device, s.Momentum, s.WeightDecay,
            precision: s.Precision, cancellationToken: cancellationToken);
        LrFinder.SavePlot(result, png, $"Learning rate finder: {config.Architecture} on {Path.GetFileName(Path.TrimEndingDirectorySeparator(s.Data))}");
        if (result.StopReason is { } why) events.Log($"Stopped after {result.Rates.Length} steps: {why}.");
        return result;
    }

    private static void ApplyFreezing(ClassifierTrainOptions s, TrainStage phase, ImageClassifier model, TrainEvents events)
    {
        string what;
        switch (phase.Number)
        {
            case 1:
                Freezing.FreezeBackbone(model);
                what = "phase 1: backbone frozen, training the head";
                break;
            case 2 when s.UnfreezeTop is { } k:
                Freezing.UnfreezeTop(model, k);
                what = $"phase 2: last {k} block(s) of the backbone and the head trainable";
                break;
            case 2:
                Freezing.Unfreeze(model);
                what = "phase 2: everything trainable";
                break;
            default:
                if (s.Freeze is null) return;
                what = Freezing.Apply(model, s.Freeze);
                break;
        }
        var (trainable, frozen) = Freezing.Count(model);
        events.Log($"{what} (trainable params: {trainable:N0}, non-trainable params: {frozen:N0}).");
    }

    private static History RunPhase(ClassifierTrainOptions s, TrainStage phase, bool logPhase, StageRunner runner, string monitor, ImageClassifier model, ModelConfig config, RunFolder run,
        ClassificationDataset train, ClassificationDataset? val, DataLoader trainLoader, DataLoader? valLoader, AugmentOptions augment,
        torch.Device device, int initialEpoch, TrainingState? state, bool append, TrainEvents events, CancellationToken cancellationToken)
    {
        // Frozen-feature cache: the backbone is fixed, so its features are computed once per image (per augmented copy).
        bool augmenting = augment.ToSpec().Length > 0;
        bool cacheable = Freezing.IsBackboneFrozen(model) && s.FeatureCache == "auto";
        if (cacheable && augmenting && s.CacheAugmented is null)
        {
            events.Log("Backbone frozen but augmentation is on: features are not cached (add ClassifierTrainOptions.CacheAugmented K to cache K augmented copies per image).");
            cacheable = false;
        }
        FeatureCache? trainCache = null, valCache = null;
        if (cacheable)
        {
            int copies = augmenting ? s.CacheAugmented!.Value : 1;
            events.Log($"Caching backbone features for {train.Count} training images" + (copies > 1 ? $" x {copies} augmented copies" : "")
                + (val is null ? "" : $" and {val.Count} validation images") + " ...");
            trainCache = FeatureCache.Compute(model, trainLoader, copies, device, cancellationToken);
            if (valLoader is not null) valCache = FeatureCache.Compute(model, valLoader, 1, device, cancellationToken);
            double seconds = trainCache.Elapsed.TotalSeconds + (valCache?.Elapsed.TotalSeconds ?? 0);
            long bytes = 4L * trainCache.Width * (trainCache.Count * trainCache.Copies + (valCache?.Count ?? 0));
            events.Log($"Caching backbone features for {train.Count + (val?.Count ?? 0)} images took {seconds:0.0} s " +
                $"({(trainCache.OnDisk ? "on disk" : "in memory")}, {bytes / 1048576.0:0.0} MB; the head trains on [N, {trainCache.Width}] features).");
        }
        try
        {
            torch.nn.Module<torch.Tensor, torch.Tensor> trained = trainCache is null ? model : new HeadModel(model);
            Func<int, IEnumerable<Batch>> trainBatches = trainCache is null ? trainLoader.Epoch : e => trainCache.Epoch(trainLoader, e);
            Func<IEnumerable<Batch>>? valBatches = valLoader is null ? null
                : valCache is null ? () => valLoader.Epoch(0) : () => valCache.Epoch(valLoader, 0);

            var options = new TrainOptions
            {
                Epochs = phase.End,
                InitialEpoch = initialEpoch,
                Optimizer = s.Optimizer,
                LearningRate = s.Lr,
                Momentum = s.Momentum,
                Nesterov = s.Nesterov,
                WeightDecay = s.WeightDecay,
                LabelSmoothing = s.LabelSmoothing,
                ClassWeights = s.ClassWeight == "balanced" ? ClassWeights.Balanced(train) : null,
                TopK = s.TopK,
                Device = device,
                Precision = s.Precision,
                StepsPerEpoch = trainLoader.BatchesPerEpoch,
            };
            // Phase 2 of --fine-tune: half the rate (fastai), spread over layer groups head first (lr, lr/10, lr/100).
            double baseLr = phase.Number == 2 ? s.Lr / 2 : s.Lr;
            using var optimizer = phase.Number == 2
                ? BuildGroupedOptimizer(s, model, baseLr, events)
                : OptimizerFactory.Create(s.Optimizer, model.parameters().Where(p => p.requires_grad), s.Lr, s.Momentum, s.Nesterov, s.WeightDecay);
            var named = new Dictionary<string, Callback>();
            EarlyStopping? early = null;
            if (s.Patience is { } patience) named["early_stopping"] = early = new EarlyStopping(monitor: monitor, patience: patience, restoreBestWeights: true);
            if (s.ReduceLrPatience is { } rp) named["reduce_lr"] = new ReduceLROnPlateau(monitor: monitor, factor: s.ReduceLrFactor, patience: rp);

            var afterNamed = new List<Callback>();
            switch (s.ResolvedSchedule)
            {
                // The base rate is the configured one, not the optimizer's current rate (which a resume restores).
                case "step": afterNamed.Add(new StepLR(Math.Max(1, s.Epochs / 3), baseLr: baseLr)); break;
                case "cosine": afterNamed.Add(new CosineLR(s.Epochs, baseLr: baseLr)); break;
                // One cycle per stage, as fastai's fine_tune runs fit_one_cycle for the frozen and the unfrozen epochs.
                case "onecycle": afterNamed.Add(new OneCycleLR(baseLr, trainLoader.BatchesPerEpoch, phase.Epochs, firstEpoch: phase.Start)); break;
            }
            if (s.LogEvery is { } every) afterNamed.Add(new StepLogger(Path.Combine(run.Path, "steps.csv"), every, append: append));

            return runner.Run(new StageRunner.Stage
            {
                Plan = phase,
                InitialEpoch = initialEpoch,
                Options = options,
                Optimizer = optimizer,
                Trained = trained,
                TrainBatches = trainBatches,
                ValBatches = valBatches,
                Named = named,
                BeforeLog = logPhase ? [new PhaseColumns(phase.Number)] : [],
                AfterNamed = afterNamed,
                Append = append,
                Resume = state,
                OnResume = _ =>
                {
                    if (early is null || !File.Exists(run.BestModel)) return;
                    var bestWeights = ReadWeights(run.BestModel);
                    // On cached features the trainer's model is the HeadModel, which holds the classifier as "model".
                    early.SetBestWeights(trainCache is null ? bestWeights : bestWeights.ToDictionary(kv => "model." + kv.Key, kv => kv.Value));
                },
            }, cancellationToken);
        }
        finally
        {
            trainCache?.Dispose();
            valCache?.Dispose();
        }
    }

    private static torch.optim.Optimizer BuildGroupedOptimizer(ClassifierTrainOptions s, ImageClassifier model, double headLr, TrainEvents events)
    {
        var groups = Freezing.LayerGroups(model, backboneGroups: 2);
        var rates = DiscriminativeRates.Rates(groups.Count, headLr);
        events.Log("Layer-group learning rates (head first): " + string.Join(", ", rates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture))) + ".");
        return DiscriminativeRates.Create(s.Optimizer, groups, rates, s.Momentum, s.Nesterov, s.WeightDecay);
    }

    /// <summary>
    /// With --fine-tune: <c>phase</c> (1 frozen backbone, 2 fine-tuning) and <c>lr_backbone</c> (the lowest layer
    /// group's rate; 0 while the backbone is frozen) next to <c>lr</c> (the head's rate) in every epoch's logs.
    /// Added before the CSV logger runs.
    /// </summary>
    private sealed class PhaseColumns(int phase) : Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            logs["phase"] = phase;
            logs["lr_backbone"] = phase == 1 ? 0 : Trainer.Optimizer.ParamGroups.Last().LearningRate;
        }
    }

    /// <summary>The network for a new run: registered/YAML architecture, optional pretrained backbone or full weights.</summary>
    private static (ImageClassifier Model, ModelConfig Config) CreateModel(ClassifierTrainOptions s, ClassificationDataset train, AugmentOptions augment, TrainEvents events)
    {
        bool binary = s.Labels switch
        {
            "binary" => train.Classes.Count == 2 ? true : throw new InvalidOptionException(ClassifierTrainOptions.Name(nameof(ClassifierTrainOptions.Labels)), "binary only with exactly 2 classes", $"binary ({train.Classes.Count} classes)"),
            "categorical" => false,
            _ => train.Classes.Count == 2,
        };
        int outputs = binary ? 1 : train.Classes.Count;
        string architecture = s.Model;
        // A .svmodel to start from fixes the width when none is asked for: fine-tuning a minicnn saved at 16 (before
        // the default became 32) builds a 16-wide one rather than refusing the file.
        var weightsConfig = s.Weights is { } file && file.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase) ? ModelFile.ReadConfig(file) : null;
        int? width = s.Width ?? (weightsConfig?.Architecture == architecture ? weightsConfig.Width : null);
        ImageClassifier model;
        if (s.Pretrained is { } source)
        {
            architecture = PretrainedWeights.ArchitectureFor(s.Model, source);
            if (architecture != s.Model)
                events.Log($"ClassifierTrainOptions.Pretrained {source}: using {architecture}, the {s.Model} whose ImageNet weights ship with SharpVision (NuGet), with a new {outputs}-output head.");
            model = ModelRegistry.Create(architecture, new ModelOptions(outputs, s.ImgSize, Width: width));
            PretrainedWeights.Load(source, model);
            if (PretrainedWeights.IsFile(source))
                events.Log($"ClassifierTrainOptions.Pretrained {source}: backbone weights loaded; the file's classifier ({model.Info.Classifier}) dropped, a new {outputs}-output head made.");
        }
        else
        {
            model = ModelRegistry.Create(s.Model, new ModelOptions(outputs, s.ImgSize, Width: width));
        }
        // rescale / mean / std of the augmentation options replace the model's: saved in the config, so validation,
        // evaluation and prediction normalise the same way.
        var pre = augment.ApplyTo(model.Info.Preprocessing);
        bool custom = ModelRegistry.IsDefinitionFile(s.Model);
        var config = new ModelConfig
        {
            Architecture = custom ? "custom" : architecture,
            Spec = custom && model is SequentialModel seq ? ModelYaml.ToYaml(seq.Spec) : null,
            Width = model.Info.Width,
            NumClasses = outputs,
            Classes = train.Classes,
            Preprocessing = pre,
        };
        if (s.Weights is { } stateDict && !stateDict.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase))
        {
            // A PyTorch / safetensors state dict: every key, same shapes (torchvision's names).
            PyTorchWeights.LoadStrict(model, stateDict);
            events.Log($"Loaded every weight from {stateDict}.");
        }
        else if (s.Weights is { } weights)
        {
            var (loadedConfig, loaded) = ModelFile.Load(weights);
            if (loadedConfig.Architecture != config.Architecture || loadedConfig.NumClasses != config.NumClasses)
                throw new ModelFileException($"ClassifierTrainOptions.Weights {weights} is a {loadedConfig.Architecture} with {loadedConfig.NumClasses} output(s); this run builds a {config.Architecture} with {config.NumClasses}.");
            if (loadedConfig.Width != config.Width)
                throw new ModelFileException($"ClassifierTrainOptions.Weights {weights} is a {loadedConfig.Architecture} of width {loadedConfig.Width}; this run builds one of width {config.Width} (ClassifierTrainOptions.Width).");
            StateDicts.LoadStrict(model, loaded.state_dict(), weights);
            loaded.Dispose();
            events.Log($"Loaded every weight from {weights}.");
        }
        return (model, config);
    }

    private static Dictionary<string, torch.Tensor> ReadWeights(string modelFile)
    {
        var (_, best) = ModelFile.Load(modelFile);
        var weights = StateDicts.CloneToCpu(best);
        best.Dispose();
        return weights;
    }

    /// <summary>The augmentation options: key=value text, or a YAML file of them; none when null.</summary>
    internal static AugmentOptions ReadAugment(ClassifierTrainOptions s) => s.Augment is null ? new AugmentOptions()
        : File.Exists(s.Augment) ? AugmentOptions.FromYamlFile(s.Augment) : AugmentOptions.Parse(s.Augment);

    private static string? NullIfEmpty(string v) => v.Length == 0 ? null : v;

    private static (ClassificationDataset Train, ClassificationDataset? Val) LoadData(ClassifierTrainOptions s, TrainEvents events)
    {
        var layout = s.Layout == "auto" ? DatasetLayouts.Detect(s.Data) : DatasetLayouts.Parse(s.Layout);
        var all = DatasetLayouts.Load(layout, s.Data, s.LabelPattern, s.FilenameColumn, s.LabelColumn);
        foreach (var w in all.Warnings) events.Log($"warning: {w}");
        foreach (var line in DatasetScan.Scan(all).Lines()) events.Log(line);
        if (s.Val is not null)
        {
            var valLayout = s.Layout == "auto" ? DatasetLayouts.Detect(s.Val) : layout;
            var val = DatasetLayouts.Load(valLayout, s.Val, s.LabelPattern, s.FilenameColumn, s.LabelColumn, all.Classes);
            foreach (var w in val.Warnings) events.Log($"warning: {w}");
            return (all, val);
        }
        if (s.ValSplit is null or 0) return (all, null);
        return DatasetSplit.Stratified(all, s.ValSplit.Value, s.Seed);
    }

    private static void ReportSkipped(string what, DataLoader loader, TrainEvents events)
    {
        var files = loader.SkippedFiles;
        if (files.Count == 0) return;
        events.Log($"{files.Count} unreadable {what} image(s) were skipped ({loader.SkippedImages} skips over all epochs):");
        foreach (var (path, reason) in files.Take(20)) events.Log($"  {path}: {reason}");
        if (files.Count > 20) events.Log($"  ... and {files.Count - 20} more");
    }

    private static long CountParameters(torch.nn.Module model) => model.parameters().Sum(p => p.numel());
}
