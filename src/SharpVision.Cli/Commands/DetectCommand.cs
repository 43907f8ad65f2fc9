using SharpVision.Evaluation.Detection;
using System.Globalization;
using SharpVision.Augmentation;
using SharpVision.Api;
using SharpVision.Data.Detection;
using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Weights;
using SharpVision.Weights.Pretrained;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision detect check|train|predict|evaluate</c>: data-set checks, YOLOv3 training, inference with drawn
/// boxes, and mAP evaluation.
/// </summary>
public static class DetectCommand
{
    public const string Help = """
        sharpvision detect check DATA [--format lines|voc|yolo|coco] [--classes classes.txt] [--max-per-kind N]
          DATA is an annotation-lines file, a VOC folder, a YOLO folder (images/ + labels/) or a COCO json.
          Prints images found / missing, boxes per class, a box-size histogram and every problem with its file
          and line: malformed fields, missing or unreadable images, reversed, zero-size and out-of-image boxes,
          class ids outside the class list, duplicate boxes. Exit code 0 (even with warnings), 1 when there are
          no labels at all. The class list is --classes, else a classes.txt beside DATA.

        sharpvision detect train DATA [--val VAL] [--classes classes.txt] [--anchors FILE]
                [--model yolov3|yolov3-tiny|yolov3-tiny-half|yolov3-<resnet>|CFG] [--pretrained imagenet|FILE.weights] [--weights FILE.svmodel]
                [--img-size 416] [--epochs N | --fine-tune E1,E2] [--batch 8] [--lr 0.001] [--schedule none|cosine]
                [--patience N] [--jitter 0.3] [--scale MIN,MAX] [--no-flip] [--seed 0] [--workers N] [--device auto|cpu|cuda|cuda:N] [--out DIR] [--exist-ok]
          keras-yolo3's loss and augmentation; results.csv (loss parts, val_map50), weights/best.svmodel (by val_map50).
          Anchors: --anchors (w,h pairs) else k-means on the training boxes. --fine-tune E1,E2: E1 epochs with the
          backbone frozen, then E2 with all layers at a tenth of --lr. --pretrained imagenet (yolov3-resnet18): the
          ImageNet ResNet-18 shipped with SharpVision, at any --img-size (its mean image becomes a per-channel mean).
        sharpvision detect train --resume RUN [--workers N] [--device D]
          continue an interrupted run from RUN/weights/last.svmodel (args.yaml, anchors.txt, optimizer state, epoch,
          learning rate, best val_map50, early-stopping counters, random state); results.csv gets the remaining epochs
          Ctrl+C/SIGTERM: stops after the current step, keeps finished epochs, saves weights/interrupted.svmodel,
          prints the --resume command and exits 130 (143 for SIGTERM); a second Ctrl+C quits at once

        sharpvision detect predict MODEL PATH... [--weights FILE.weights] [--classes FILE] [--conf 0.25] [--iou 0.45]
                [--img-size N] [--out DIR]
          MODEL: a detector .svmodel or run folder, or a Darknet .cfg (then --weights is its Darknet weights and
          --classes its names file). PATH: images or folders. Writes <stem>.png with boxes drawn,
          detections.txt (path x1,y1,x2,y2,class,score ...) and detections.json (COCO results) into --out.

        sharpvision detect evaluate MODEL DATA [--json] [--conf 0.005] [--iou 0.45]
          Runs the detector over DATA's images and prints COCO (AP, AP50, ...) and VOC mAP against its boxes.
        """;

    private static readonly string[] Formats = ["lines", "voc", "yolo", "coco"];
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    public static int Run(string[] argv)
    {
        if (argv.Length > 0 && argv[0] is "train" or "predict" or "evaluate")
        {
            var rest = argv[1..];
            return argv[0] switch
            {
                "train" => Train(rest),
                "predict" => Predict(rest),
                _ => Evaluate(rest),
            };
        }
        var a = new Arguments("detect", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string action = a.Positional("ACTION");
        if (action != "check") throw new InvalidOptionException("detect ACTION", "check, train, predict, evaluate", action);
        string data = a.Positional("DATA");
        string? format = a.String("--format");
        if (format is not null && !Formats.Contains(format)) throw new InvalidOptionException("--format", "one of " + string.Join(", ", Formats), format);
        string? classes = a.ExistingPath("--classes");
        int maxPerKind = a.Int("--max-per-kind", 50, min: 1);
        a.Finish();

        var dataset = DetectionData.Open(data, format is null ? null : Enum.Parse<DetectionFormat>(format, ignoreCase: true), classes);
        var report = DetectionCheck.Run(dataset);
        Console.WriteLine(report.ToText(maxPerKind));
        if (!report.HasLabels)
        {
            try { dataset.RequireLabels(); }
            catch (DatasetException e) { Console.Error.WriteLine($"error: {e.Message}"); }
            return 1;
        }
        return 0;
    }

    private static int Train(string[] argv)
    {
        var a = new Arguments("detect train", argv, "--exist-ok", "--no-flip");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        if (a.String("--resume") is { } resumeRun)
        {
            // Everything comes from the run's args.yaml; only the loader threads and the device may change.
            int? workers = a.IntOrNull("--workers", min: 0, max: 64);
            string? device = a.String("--device");
            a.Finish();
            using var resumeProgress = new ProgressBar();
            PrintOutcome(Detector.Resume(resumeRun, TrainCommand.Events(resumeProgress), device, workers, Interrupts.Token));
            return 0;
        }
        string data = a.Positional("DATA");
        var defaults = new BoxAugmentOptions();
        var scale = ParsePair(a.String("--scale"), "--scale", "MIN,MAX (e.g. 0.25,2)");
        var fineTune = ParsePair(a.String("--fine-tune"), "--fine-tune", "E1,E2 (e.g. 5,20)");
        if (fineTune is { } ft && (ft.A != Math.Floor(ft.A) || ft.B != Math.Floor(ft.B)))
            throw new InvalidOptionException("--fine-tune", "E1,E2 with whole numbers E1 >= 0, E2 >= 1", a.String("--fine-tune")!);
        bool epochsGiven = a.Has("--epochs");
        var s = new DetectorTrainOptions
        {
            Data = data,
            Val = a.ExistingPath("--val"),
            Classes = a.ExistingPath("--classes"),
            Anchors = a.ExistingPath("--anchors"),
            Model = a.String("--model", "yolov3-tiny"),
            Pretrained = a.String("--pretrained"),
            Weights = a.ExistingPath("--weights"),
            ImgSize = a.Int("--img-size", 416, min: 32),
            Epochs = a.Int("--epochs", 50, min: 1),
            FineTune = fineTune is { } f ? ((int)f.A, (int)f.B) : null,
            Batch = a.Int("--batch", 8, min: 1),
            Lr = a.Double("--lr", 1e-3, min: 0),
            Schedule = a.Choice("--schedule", "none", "none", "cosine"),
            Patience = a.IntOrNull("--patience", min: 1),
            Augment = defaults with
            {
                Jitter = a.Double("--jitter", defaults.Jitter, min: 0),
                MinScale = scale?.A ?? defaults.MinScale,
                MaxScale = scale?.B ?? defaults.MaxScale,
                Flip = !a.Flag("--no-flip"),
            },
            Seed = a.Int("--seed", 0),
            Workers = a.IntOrNull("--workers", min: 0, max: 64),
            Device = a.String("--device", "auto"),
            Out = a.String("--out"),
            ExistOk = a.Flag("--exist-ok"),
        };
        a.Finish();
        if (epochsGiven && s.FineTune is not null) throw new InvalidOptionException("--epochs", "not given together with --fine-tune", "both");
        using var progress = new ProgressBar();
        PrintOutcome(Detector.Train(s.Data, s, TrainCommand.Events(progress), Interrupts.Token));
        return 0;
    }

    private static void PrintOutcome(DetectionTrainResult result)
    {
        Console.WriteLine($"Best val mAP@0.5: {(result.BestMap50 is { } m ? m.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a")}");
        Console.WriteLine($"Run folder: {result.RunDir}");
    }

    private static int Predict(string[] argv)
    {
        var a = new Arguments("detect predict", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string model = a.Positional("MODEL");
        var inputs = a.RemainingPositionals("PATH");
        string? weights = a.ExistingPath("--weights");
        string? classes = a.ExistingPath("--classes");
        float conf = (float)a.Double("--conf", .25, min: 0, max: 1);
        float iou = (float)a.Double("--iou", .45, min: 0, max: 1);
        int? imgSize = a.IntOrNull("--img-size", min: 32);
        string outDir = a.String("--out") ?? RunFolder.NextExperiment(Path.Combine("runs", "detect-predict"));
        a.Finish();
        var paths = ExpandImages(inputs);
        if (paths.Count == 0) throw new SharpVisionException("detect predict: no images found in the given paths.");

        DetectionRun run;
        if (model.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase))
        {
            if (weights is null) throw new SharpVisionException("detect predict with a .cfg needs --weights FILE.weights (its Darknet weights).");
            if (classes is null) throw new SharpVisionException("detect predict with a .cfg needs --classes FILE (its class names, like coco.names).");
            string cfg = model;
            if (imgSize is { } size)
            {
                // The cfg's [net] size replaced, so the same weights run at another input size.
                var text = File.ReadAllText(model);
                text = System.Text.RegularExpressions.Regex.Replace(text, @"(?m)^\s*(width|height)\s*=\s*\d+", m => $"{m.Groups[1].Value}={size}");
                cfg = Path.Combine(Path.GetTempPath(), $"sharpvision-{Environment.ProcessId}-{Path.GetFileName(model)}");
                File.WriteAllText(cfg, text);
            }
            using var darknet = Detector.LoadDarknet(cfg, weights, classes);
            run = darknet.Predict(paths, new DetectOptions { Confidence = conf, Iou = iou }, outDir);
        }
        else
        {
            if (imgSize is not null) throw new InvalidOptionException("--img-size", "only with a Darknet .cfg (a trained model keeps its size)", imgSize.Value.ToString(CultureInfo.InvariantCulture));
            using var detector = Detector.Load(model);
            run = detector.Predict(paths, new DetectOptions { Confidence = conf, Iou = iou }, outDir);
        }
        foreach (var image in run.Images)
            Console.WriteLine($"{image.Path}: {image.Objects.Count} object(s)" +
                string.Concat(image.Objects.Take(5).Select(o => $" {o.ClassName} {o.Score:0.00}")));
        foreach (var e in run.Skipped) Console.WriteLine($"skipped {e.Path}: {e.Reason}");
        Console.WriteLine($"Results saved to {outDir} (drawn images, detections.txt, detections.json)");
        return 0;
    }

    private static int Evaluate(string[] argv)
    {
        var a = new Arguments("detect evaluate", argv, "--json");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string model = a.Positional("MODEL");
        string data = a.Positional("DATA");
        bool json = a.Flag("--json");
        float conf = (float)a.Double("--conf", .005, min: 0, max: 1);
        float iou = (float)a.Double("--iou", .45, min: 0, max: 1);
        a.Finish();
        using var detector = Detector.Load(model);
        var log = json ? Console.Error : Console.Out;
        var report = detector.Evaluate(data, new DetectOptions { Confidence = conf, Iou = iou }, log.WriteLine);
        if (json) Console.WriteLine(report.ToJson());
        else Console.Write(report.ToText());
        return 0;
    }

    private static (double A, double B)? ParsePair(string? value, string option, string expected)
    {
        if (value is null) return null;
        var parts = value.Split(',');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double y))
            return (x, y);
        throw new InvalidOptionException(option, expected, value);
    }

    /// <summary>Image files named directly or found (recursively) in folders.</summary>
    public static List<string> ExpandImages(IEnumerable<string> inputs)
    {
        var result = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p))
                result.AddRange(Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories)
                    .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())));
            else if (File.Exists(p)) result.Add(p);
            else throw new InvalidOptionException("PATH", "existing image files or folders", p);
        }
        return result;
    }
}
