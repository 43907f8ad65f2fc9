using System.CommandLine;
using System.Globalization;
using SharpVision.Api;
using SharpVision.Training;
using SharpVision.Training.Callbacks;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision train DATA ...</c>: reads the flags into <see cref="ClassifierTrainOptions"/> and calls <see cref="Classifier.Train"/>.</summary>
public static class TrainCommand
{
    private const string Description = """
        Train an image classifier on DATA; or continue an interrupted run with --resume RUN.
        `train --resume RUN [--device D] [--workers N]` continues from RUN/weights/last.svmodel with its optimizer,
        epoch, learning rate, random state and callback counters (every other setting comes from RUN/args.yaml).
        Ctrl+C (or SIGTERM) stops training after the current step: completed epochs stay in results.csv and
        weights/, the current weights go to weights/interrupted.svmodel, and the command exits with 130 (143 for
        SIGTERM) after printing the --resume command. A second Ctrl+C quits at once.
        Defaults: Adam with a one-cycle rate (fastai's fit_one_cycle, PyTorch's OneCycleLR): from --lr/25 up to --lr
        over the first 30 % of the steps (Adam's beta1 0.95 -> 0.85), then a cosine down to --lr/25/1e4 at the last
        step (beta1 back to 0.95); each --fine-tune stage has its own cycle. --schedule none keeps --lr constant (Keras),
        as the default does when --reduce-lr-patience manages the rate. Batch 32, no augmentation, no label smoothing.
        """;

    public static Command Create()
    {
        var command = new Command("train", Description);
        var flags = new ClassifierTrainFlags(command);
        var resume = Flags.Text("--resume", "continue the interrupted run RUN (only --device, --workers and --dashboard may change)", "RUN");
        var dashboard = DashboardCommand.Flag();
        command.Add(resume);
        command.Add(dashboard);
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) is { } resumeRun)
            {
                flags.RequireOnly(parse, resume, flags.Device, flags.Workers, dashboard);
                string? device = parse.Given(flags.Device) ? parse.GetValue(flags.Device) : null;
                using var resumeDashboard = DashboardCommand.StartBeside(parse, dashboard, resumeRun);
                using var resumeProgress = new ProgressBar();
                PrintOutcome(Classifier.Resume(resumeRun, Events(resumeProgress), device, parse.GetValue(flags.Workers), Interrupts.Token));
                return 0;
            }
            var options = flags.Read(parse);
            using var server = DashboardCommand.StartBeside(parse, dashboard, options.Out);
            using var progress = new ProgressBar();
            PrintOutcome(Classifier.Train(options.Data, options, Events(progress), Interrupts.Token));
            return 0;
        });
        return command;
    }

    /// <summary>The run's log lines on stdout and the console progress bar.</summary>
    internal static TrainEvents Events(ProgressBar progress) => new() { Message = m => Console.WriteLine(OptionFlags.Translate(m)), Callbacks = [progress] };

    internal static void PrintOutcome(TrainResult r)
    {
        var h = r.History;
        if (h.Count == 0) return;
        var last = h.Logs[^1];
        string metric = last.ContainsKey("val_accuracy") ? "val_accuracy" : "accuracy";
        var values = h.Get(metric);
        int bestIndex = Array.IndexOf(values, values.Max());
        if (!File.Exists(r.BestPath))
        {
            // Every epoch was NaN (diverged): ModelCheckpoint never saves such weights as the best ones.
            string monitor = last.ContainsKey("val_loss") ? "val_loss" : "loss";
            Console.WriteLine($"No best model saved: no epoch had a finite {monitor}; results in {r.RunDir}");
            return;
        }
        Console.WriteLine($"Best {metric} {values[bestIndex]:0.0000} at epoch {h.Epochs[bestIndex]}; results in {r.RunDir}");
    }
}

/// <summary>
/// The options of <see cref="ClassifierTrainOptions"/>, declared once for <c>train</c> and <c>lr-find</c>: each flag with
/// its help text and default, and <see cref="Read"/> mapping them to the record (the checks between settings are
/// <see cref="ClassifierTrainOptions.Validate"/>'s).
/// </summary>
internal sealed class ClassifierTrainFlags
{
    private static readonly string[] Layouts = ["auto", "folders", "filenames", "csv"];

    /// <summary>The library's defaults: the flags show and use them, so they are set in one place (<see cref="ClassifierTrainOptions"/>).</summary>
    private static readonly ClassifierTrainOptions Defaults = new();

    private readonly Command _command;
    private readonly Argument<string?> _data = Flags.Positional("DATA", "folder per class, folder of label.N.jpg files, or a CSV (filename,label)", optional: true);
    private readonly Option<string> _layout = Flags.Choice("--layout", "how DATA is organised (auto: detected)", Defaults.Layout, Layouts);
    private readonly Option<string?> _labelPattern = Flags.Text("--label-pattern", "filenames layout: regex with one group giving the label", "REGEX");
    private readonly Option<string> _filenameColumn = Flags.Text("--filename-column", "csv layout: the column holding the file names", Defaults.FilenameColumn, "NAME");
    private readonly Option<string> _labelColumn = Flags.Text("--label-column", "csv layout: the column holding the labels", Defaults.LabelColumn, "NAME");
    private readonly Option<string?> _val = Flags.ExistingPath("--val", "validation set (instead of --val-split)", "DIR");
    private readonly Option<double?> _valSplit = Flags.DoubleOrNull("--val-split", "stratified fraction of DATA held out for validation (default 0.2 without --val)", 0, 0.99);
    private readonly Option<string> _model = Flags.Text("--model", "smallcnn, minicnn, vgg16, resnet18, resnet34, resnet50, or a layer file", Defaults.Model, "NAME|FILE.yaml");
    private readonly Option<int?> _width = Flags.IntOrNull("--width", $"minicnn: filters of the first stage, doubled in each of the next two (default {Models.MiniCnn.DefaultWidth}, or a --weights model file's)", 1, 4096);
    private readonly Option<int?> _imgSize = Flags.IntOrNull("--img-size", "input side (default: the model's)", 8, 4096);
    private readonly Option<string> _labels = Flags.Choice("--labels", "label encoding (auto: binary for 2 classes)", Defaults.Labels, "auto", "binary", "categorical");
    private readonly Option<int> _batch = Flags.Int("--batch", "batch size", Defaults.Batch, min: 1);
    private readonly Option<int> _epochs = Flags.Int("--epochs", "epochs to train", Defaults.Epochs, min: 1);
    private readonly Option<double> _lr = Flags.Double("--lr", "learning rate (the peak of onecycle)", Defaults.Lr, 1e-12, 10);
    private readonly Option<string> _optimizer = Flags.Choice("--optimizer", "optimizer", Defaults.Optimizer, [.. OptimizerFactory.Names]);
    private readonly Option<double> _momentum = Flags.Double("--momentum", "SGD/RMSprop momentum", Defaults.Momentum, 0, 1);
    private readonly Option<bool> _nesterov = Flags.Switch("--nesterov", "Nesterov momentum (SGD)");
    private readonly Option<double> _weightDecay = Flags.Double("--weight-decay", "weight decay", Defaults.WeightDecay, 0, 1);
    private readonly Option<double> _labelSmoothing = Flags.Double("--label-smoothing", "label smoothing", Defaults.LabelSmoothing, 0, 0.99);
    private readonly Option<string> _classWeight = Flags.Choice("--class-weight", "class weights in the loss", Defaults.ClassWeight, "none", "balanced");
    private readonly Option<string?> _augment = Flags.Text("--augment", "Keras ImageDataGenerator names, e.g. rotation_range=40,zoom_range=0.2,horizontal_flip=true", "K=V,...|FILE.yaml");
    private readonly Option<string> _schedule = Flags.Choice("--schedule", "learning-rate schedule (auto: onecycle, or none with --reduce-lr-patience)",
        Defaults.Schedule, [.. ClassifierTrainOptions.Schedules]);
    private readonly Option<string> _monitor = Flags.Choice("--monitor", "the metric for the best checkpoint, EarlyStopping and ReduceLROnPlateau", Defaults.Monitor, "val_loss", "val_accuracy", "loss", "accuracy");
    private readonly Option<int?> _patience = Flags.IntOrNull("--patience", "EarlyStopping: epochs without improvement before stopping", min: 0);
    private readonly Option<int?> _reduceLrPatience = Flags.IntOrNull("--reduce-lr-patience", "ReduceLROnPlateau: epochs without improvement before reducing", min: 0);
    private readonly Option<double> _reduceLrFactor = Flags.Double("--reduce-lr-factor", "ReduceLROnPlateau: factor of each reduction", Defaults.ReduceLrFactor, 1e-6, 0.999999);
    private readonly Option<int> _topK = Flags.Int("--top-k", "also log top-k accuracy (0: off)", Defaults.TopK, min: 0);
    private readonly Option<int> _seed = Flags.Int("--seed", "random seed", Defaults.Seed);
    private readonly Option<int?> _stepsPerEpoch = Flags.IntOrNull("--steps-per-epoch", "batches per epoch (default: the whole set)", min: 1);
    private readonly Option<string?> _out = Flags.Text("--out", "run folder (default runs/train/expN)", "DIR");
    private readonly Option<bool> _existOk = Flags.Switch("--exist-ok", "reuse an existing run folder");
    private readonly Option<int> _maxPixels = Flags.Int("--max-pixels", "decompression-bomb limit: larger images are skipped", (int)Imaging.DecodeOptions.DefaultMaxPixels, min: 1);
    private readonly Option<int?> _logEvery = Flags.IntOrNull("--log-every", "write a steps.csv row every N steps", min: 1);
    private readonly Option<string?> _pretrained = Flags.Text("--pretrained", "imagenet (the ResNet-18 shipped with SharpVision) or a torchvision resnet18/34/50 or vgg16 state dict (.pth/.pt/.bin/.safetensors): its head is dropped and a new one made", "imagenet|FILE.pth");
    private readonly Option<string?> _weights = Flags.ExistingPath("--weights", "start from a complete model (strict: same architecture and classes)", "FILE.svmodel");
    private readonly Option<string?> _freeze = Flags.Text("--freeze", "freeze the first N layers (summary order) or everything but the head; frozen BatchNorm layers stay in inference mode", "N|backbone");
    private readonly Option<(int Frozen, int Unfrozen)?> _fineTune = Flags.Parsed<(int, int)>("--fine-tune",
        "E1 epochs with the backbone frozen, then E2 epochs unfrozen at half the rate with layer-group rates lr, lr/10, lr/100 (head first)",
        "E1,E2", "two epoch counts E1,E2 (each >= 1), e.g. 3,3", ParseFineTune);
    private readonly Option<int?> _unfreezeTop = Flags.IntOrNull("--unfreeze-top", "with --fine-tune: unfreeze only the last K blocks of the backbone in phase 2", min: 1);
    private readonly Option<int?> _cacheAugmented = Flags.IntOrNull("--cache-augmented", "frozen backbone + --augment: cache K augmented copies of each image's features", 1, 1000);
    private readonly Option<string> _featureCache = Flags.Choice("--feature-cache", "with a frozen backbone and no augmentation, compute features once (auto) or every epoch (off)", Defaults.FeatureCache, "auto", "off");
    private readonly Option<string> _precision = PrecisionFlag.Create();

    public ClassifierTrainFlags(Command command)
    {
        _command = command;
        command.Add(_data);
        foreach (var option in new Option[]
                 {
                     _layout, _labelPattern, _filenameColumn, _labelColumn, _val, _valSplit, _model, _width, _imgSize, _labels, _batch, _epochs, _lr,
                     _optimizer, _momentum, _nesterov, _weightDecay, _labelSmoothing, _classWeight, _augment, _schedule, _monitor, _patience,
                     _reduceLrPatience, _reduceLrFactor, _topK, _seed, Workers, _stepsPerEpoch, Device, _out, _existOk, _maxPixels, _logEvery,
                     _pretrained, _weights, _freeze, _fineTune, _unfreezeTop, _cacheAugmented, _featureCache, _precision,
                 })
            command.Add(option);
    }

    public Option<int?> Workers { get; } = Flags.IntOrNull("--workers", "image-loading threads (default: planned from the cores)", 0, 64);
    public Option<string> Device { get; } = Flags.Text("--device", "auto, cpu, cuda or cuda:N", Defaults.Device, "D");

    public ClassifierTrainOptions Read(ParseResult parse)
    {
        string path = ParseErrors.Path(_command);
        string data = parse.GetValue(_data) ?? throw new SharpVisionException($"'{path}' needs DATA. Run 'sharpvision {path} --help' for usage.");
        string? val = parse.GetValue(_val);
        var fineTune = parse.GetValue(_fineTune);
        if (fineTune is { } ft && parse.Typed(_epochs) is { } epochsText)
            throw new InvalidOptionException("--epochs", $"left out with --fine-tune (it runs {ft.Frozen}+{ft.Unfrozen} epochs)", epochsText);
        return new ClassifierTrainOptions
        {
            Data = data,
            Val = val,
            ValSplit = val is null ? parse.GetValue(_valSplit) ?? 0.2 : parse.GetValue(_valSplit),
            Layout = parse.GetValue(_layout)!,
            LabelPattern = parse.GetValue(_labelPattern),
            FilenameColumn = parse.GetValue(_filenameColumn)!,
            LabelColumn = parse.GetValue(_labelColumn)!,
            Model = parse.GetValue(_model)!,
            Width = parse.GetValue(_width),
            ImgSize = parse.GetValue(_imgSize) ?? 0,
            Labels = parse.GetValue(_labels)!,
            Batch = parse.GetValue(_batch),
            Epochs = fineTune is { } p ? p.Frozen + p.Unfrozen : parse.GetValue(_epochs),
            Lr = parse.GetValue(_lr),
            Optimizer = parse.GetValue(_optimizer)!,
            Momentum = parse.GetValue(_momentum),
            Nesterov = parse.GetValue(_nesterov),
            WeightDecay = parse.GetValue(_weightDecay),
            LabelSmoothing = parse.GetValue(_labelSmoothing),
            ClassWeight = parse.GetValue(_classWeight)!,
            Augment = parse.GetValue(_augment),
            Schedule = parse.GetValue(_schedule)!,
            Monitor = parse.GetValue(_monitor)!,
            Patience = parse.GetValue(_patience),
            ReduceLrPatience = parse.GetValue(_reduceLrPatience),
            ReduceLrFactor = parse.GetValue(_reduceLrFactor),
            TopK = parse.GetValue(_topK),
            Seed = parse.GetValue(_seed),
            Workers = parse.GetValue(Workers),
            StepsPerEpoch = parse.GetValue(_stepsPerEpoch),
            Device = parse.GetValue(Device)!,
            Out = parse.GetValue(_out),
            ExistOk = parse.GetValue(_existOk),
            MaxPixels = parse.GetValue(_maxPixels),
            LogEvery = parse.GetValue(_logEvery),
            Pretrained = parse.GetValue(_pretrained),
            Weights = parse.GetValue(_weights),
            Freeze = parse.GetValue(_freeze),
            FineTune = fineTune,
            UnfreezeTop = parse.GetValue(_unfreezeTop),
            CacheAugmented = parse.GetValue(_cacheAugmented),
            FeatureCache = parse.GetValue(_featureCache)!,
            Precision = PrecisionFlag.Read(parse, _precision),
        };
    }

    /// <summary>
    /// With <c>--resume</c> the settings come from the run: refuses DATA and every option but <paramref name="allowed"/>
    /// (the first of which is --resume itself).
    /// </summary>
    public void RequireOnly(ParseResult parse, params Option[] allowed)
    {
        string path = ParseErrors.Path(_command);
        if (parse.GetValue(_data) is { } data)
            throw new SharpVisionException($"'{path} --resume' did not expect '{data}': the run's args.yaml names its data.");
        foreach (var option in _command.Options.Where(o => !allowed.Contains(o) && parse.Given(o)))
            throw new SharpVisionException($"'{path} --resume' takes only {Join(allowed.Skip(1).Select(o => o.Name).ToList())}: the other settings come from the run's args.yaml. Received: {option.Name}");
    }

    /// <summary>"a", "a and b", "a, b and c".</summary>
    private static string Join(IReadOnlyList<string> names) =>
        names.Count <= 1 ? string.Concat(names) : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];

    /// <summary>"E1,E2" -> (E1, E2), both whole numbers >= 1; null when malformed.</summary>
    private static (int, int)? ParseFineTune(string text)
    {
        var parts = text.Split(',');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int e1)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int e2) && e1 >= 1 && e2 >= 1 ? (e1, e2) : null;
    }
}
