using System.CommandLine;
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
    private static readonly string[] Formats = ["lines", "voc", "yolo", "coco"];
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"];

    public static Command Create()
    {
        var command = new Command("detect", "Object detection: check a data set, train YOLOv3, predict boxes, evaluate mAP.");
        command.Add(CreateCheck());
        command.Add(CreateTrain());
        command.Add(CreatePredict());
        command.Add(CreateEvaluate());
        return command;
    }

    private static Command CreateCheck()
    {
        var command = new Command("check", """
            Check a detection data set: images found / missing, boxes per class, box sizes, every problem.
            Prints a box-size histogram and every problem with its file and line: malformed fields, missing or
            unreadable images, reversed, zero-size and out-of-image boxes, class ids outside the class list, duplicate
            boxes. Exit code 0 (even with warnings), 1 when there are no labels at all.
            """);
        var dataArg = Flags.Positional("DATA", "an annotation-lines file, a VOC folder, a YOLO folder (images/ + labels/) or a COCO json");
        var format = Flags.ChoiceOrNull("--format", "DATA's format (default: detected)", Formats);
        var classes = Flags.ExistingPath("--classes", "class names, one per line (default: classes.txt beside DATA)", "FILE");
        var maxPerKind = Flags.Int("--max-per-kind", "problems listed per kind", 50, min: 1);
        command.Add(dataArg);
        command.Add(format);
        command.Add(classes);
        command.Add(maxPerKind);
        command.SetAction(parse =>
        {
            string? formatName = parse.GetValue(format);
            var dataset = DetectionData.Open(parse.GetValue(dataArg)!, formatName is null ? null : Enum.Parse<DetectionFormat>(formatName, ignoreCase: true), parse.GetValue(classes));
            var report = DetectionCheck.Run(dataset);
            Console.WriteLine(report.ToText(parse.GetValue(maxPerKind)));
            if (!report.HasLabels)
            {
                try { dataset.RequireLabels(); }
                catch (DatasetException e) { Console.Error.WriteLine($"error: {e.Message}"); }
                return 1;
            }
            return 0;
        });
        return command;
    }

    private static Command CreateTrain()
    {
        var command = new Command("train", """
            Train a YOLOv3 detector (keras-yolo3's loss; its augmentation, milder, plus mosaic); or continue a run with --resume RUN.
            Writes results.csv (loss parts, val_map50) and weights/best.svmodel (by val_map50). Anchors: --anchors (w,h
            pairs) else k-means on the training boxes. --pretrained imagenet (yolov3-resnet18): the ImageNet ResNet-18
            shipped with SharpVision, at any --img-size (its mean image becomes a per-channel mean).
            `detect train --resume RUN [--workers N] [--device D]` continues from RUN/weights/last.svmodel (args.yaml,
            anchors.txt, optimizer state, epoch, learning rate, best val_map50, early-stopping counters, random state).
            Ctrl+C/SIGTERM: stops after the current step, keeps finished epochs, saves weights/interrupted.svmodel,
            prints the --resume command and exits 130 (143 for SIGTERM); a second Ctrl+C quits at once.
            """);
        var defaults = BoxAugmentOptions.Recommended;
        var dataArg = Flags.Positional("DATA", "annotation lines, a VOC folder, a YOLO folder or a COCO json", optional: true);
        var resume = Flags.Text("--resume", "continue the interrupted run RUN (only --device, --workers and --dashboard may change)", "RUN");
        var val = Flags.ExistingPath("--val", "validation annotations", "VAL");
        var classes = Flags.ExistingPath("--classes", "class names, one per line", "FILE");
        var anchors = Flags.ExistingPath("--anchors", "anchors file (w,h pairs; default: k-means on the training boxes)", "FILE");
        var model = Flags.Text("--model", "yolov3, yolov3-tiny, yolov3-tiny-half, yolov3-<resnet> or a Darknet .cfg", "yolov3-tiny", "NAME|CFG");
        var pretrained = Flags.Text("--pretrained", "imagenet (yolov3-resnet18) or Darknet backbone weights", "imagenet|FILE.weights");
        var weights = Flags.ExistingPath("--weights", "start from a complete detector", "FILE.svmodel");
        var imgSize = Flags.Int("--img-size", "network input side", 416, min: 32);
        var epochs = Flags.Int("--epochs", "epochs to train", 50, min: 1);
        var fineTune = Flags.Parsed<(int, int)>("--fine-tune", "E1 epochs with the backbone frozen, then E2 with all layers at a tenth of --lr",
            "E1,E2", "E1,E2 with whole numbers E1 >= 0, E2 >= 1", text => Flags.Pair(text) is { } p && p.A == Math.Floor(p.A) && p.B == Math.Floor(p.B) ? ((int)p.A, (int)p.B) : null);
        var batch = Flags.Int("--batch", "batch size", 8, min: 1);
        var lr = Flags.Double("--lr", "learning rate", 1e-3, min: 0);
        var schedule = Flags.Choice("--schedule", "learning-rate schedule", "none", "none", "cosine");
        var patience = Flags.IntOrNull("--patience", "EarlyStopping: epochs without a better val_map50 before stopping", min: 1);
        var jitter = Flags.Double("--jitter", "aspect-ratio jitter", defaults.Jitter, min: 0);
        var scale = Flags.Parsed<(double, double)>("--scale", $"random scale range (default {defaults.MinScale.ToString(CultureInfo.InvariantCulture)},{defaults.MaxScale.ToString(CultureInfo.InvariantCulture)})",
            "MIN,MAX", "MIN,MAX (e.g. 0.25,2)", text => Flags.Pair(text));
        var noFlip = Flags.Switch("--no-flip", "no random horizontal flips");
        var hsv = Flags.Parsed<(double, double, double)>("--hsv", $"HSV jitter: hue shift in [-H, H] (fraction of the circle), saturation and value times rand(1, S) or its inverse; 0,1,1 = off (default {Num(defaults.Hue)},{Num(defaults.Saturation)},{Num(defaults.Value)})",
            "H,S,V", "H,S,V with 0 <= H <= 0.5, S >= 1, V >= 1 (e.g. 0.1,1.5,1.5; 0,1,1 = off)", text => text.Split(',') is { Length: 3 } p
                && double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double h) && h is >= 0 and <= .5
                && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double sat) && sat >= 1
                && double.TryParse(p[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 1 ? (h, sat, v) : null);
        var multiScale = Flags.Double("--multi-scale", "F: each training batch at a random side in [(1-F), (1+F)] x --img-size (multiples of 32); 0 = off", 0, 0, .9);
        var mosaic = Flags.Double("--mosaic", "probability that a training image is a 4-image mosaic (Ultralytics); 0 = off", defaults.Mosaic, 0, 1);
        var seed = Flags.Int("--seed", "random seed", 0);
        var workers = Flags.IntOrNull("--workers", "image-loading threads (default: planned from the cores)", 0, 64);
        var device = Flags.Text("--device", "auto, cpu, cuda or cuda:N", "auto", "D");
        var outDir = Flags.Text("--out", "run folder (default runs/detect/expN)", "DIR");
        var existOk = Flags.Switch("--exist-ok", "reuse an existing run folder");
        var precision = PrecisionFlag.Create();
        var dashboard = DashboardCommand.Flag();
        command.Add(dataArg);
        foreach (var option in new Option[]
                 {
                     resume, val, classes, anchors, model, pretrained, weights, imgSize, epochs, fineTune, batch, lr, schedule, patience,
                     jitter, scale, noFlip, hsv, mosaic, multiScale, seed, workers, device, outDir, existOk, precision, dashboard,
                 })
            command.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(resume) is { } resumeRun)
            {
                // Everything comes from the run's args.yaml; only the loader threads and the device may change.
                if (parse.GetValue(dataArg) is { } stray)
                    throw new SharpVisionException($"'detect train --resume' did not expect '{stray}': the run's args.yaml names its data.");
                foreach (var option in command.Options.Where(o => o != resume && o != workers && o != device && o != dashboard && parse.Given(o)))
                    throw new SharpVisionException($"'detect train --resume' takes only --device, --workers and --dashboard: the other settings come from the run's args.yaml. Received: {option.Name}");
                using var resumeDashboard = DashboardCommand.StartBeside(parse, dashboard, resumeRun);
                using var resumeProgress = new ProgressBar();
                PrintOutcome(Detector.Resume(resumeRun, TrainCommand.Events(resumeProgress), parse.Given(device) ? parse.GetValue(device) : null,
                    parse.GetValue(workers), Interrupts.Token));
                return 0;
            }
            string data = parse.GetValue(dataArg) ?? throw new SharpVisionException("'detect train' needs DATA. Run 'sharpvision detect train --help' for usage.");
            var range = parse.GetValue(scale);
            var s = new DetectorTrainOptions
            {
                Data = data,
                Val = parse.GetValue(val),
                Classes = parse.GetValue(classes),
                Anchors = parse.GetValue(anchors),
                Model = parse.GetValue(model)!,
                Pretrained = parse.GetValue(pretrained),
                Weights = parse.GetValue(weights),
                ImgSize = parse.GetValue(imgSize),
                Epochs = parse.GetValue(epochs),
                FineTune = parse.GetValue(fineTune),
                Batch = parse.GetValue(batch),
                Lr = parse.GetValue(lr),
                Schedule = parse.GetValue(schedule)!,
                Patience = parse.GetValue(patience),
                Augment = defaults with
                {
                    Jitter = parse.GetValue(jitter),
                    MinScale = range?.Item1 ?? defaults.MinScale,
                    MaxScale = range?.Item2 ?? defaults.MaxScale,
                    Flip = !parse.GetValue(noFlip),
                    Hue = parse.GetValue(hsv)?.Item1 ?? defaults.Hue,
                    Saturation = parse.GetValue(hsv)?.Item2 ?? defaults.Saturation,
                    Value = parse.GetValue(hsv)?.Item3 ?? defaults.Value,
                    Mosaic = parse.GetValue(mosaic),
                },
                MultiScale = parse.GetValue(multiScale),
                Seed = parse.GetValue(seed),
                Workers = parse.GetValue(workers),
                Device = parse.GetValue(device)!,
                Out = parse.GetValue(outDir),
                ExistOk = parse.GetValue(existOk),
                Precision = PrecisionFlag.Read(parse, precision),
            };
            if (parse.Given(epochs) && s.FineTune is not null) throw new InvalidOptionException("--epochs", "not given together with --fine-tune", "both");
            using var server = DashboardCommand.StartBeside(parse, dashboard, s.Out);
            using var progress = new ProgressBar();
            PrintOutcome(Detector.Train(s.Data, s, TrainCommand.Events(progress), Interrupts.Token));
            return 0;
        });
        return command;
    }

    private static string Num(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static void PrintOutcome(DetectionTrainResult result)
    {
        Console.WriteLine($"Best val mAP@0.5: {(result.BestMap50 is { } m ? m.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a")}");
        Console.WriteLine($"Run folder: {result.RunDir}");
    }

    private static Command CreatePredict()
    {
        var command = new Command("predict", """
            Boxes for images, videos, cameras and streams: drawn images, detections.txt and detections.json; for a video,
            the annotated video and detections.jsonl.
            MODEL: a detector .svmodel or run folder, a detector exported to ONNX (model.onnx: runs on ONNX Runtime,
            no libtorch needed, with the letterbox its metadata records), or a Darknet .cfg (then --weights is its
            Darknet weights and --classes its names file). With a trained model or .onnx, --classes is a check: a names
            file that disagrees with the model's classes is refused. Images: writes <stem>.png with boxes drawn,
            detections.txt (path x1,y1,x2,y2,class,score ...) and detections.json (COCO results) into --out.
            Video (PATH clip.mp4, or --source /dev/video0 / rtsp://... / any input ffmpeg opens; needs ffmpeg on PATH):
            frames are decoded by an ffmpeg child process; writes the annotated video (--out FILE.mp4, or <stem>.mp4 in the
            --out folder) and detections.jsonl beside it, one line per processed frame:
            {"frame", "time", "detections": [{"class_id", "class", "score", "box": [x1, y1, x2, y2]}]}.
            --stride N runs the model on every Nth frame; the video keeps every frame (the others show the last boxes).
            A camera or stream runs until Ctrl+C, which finishes the video and the JSON lines.
            """);
        var modelArg = Flags.Positional("MODEL", "a detector .svmodel, run folder or exported .onnx, or a Darknet .cfg");
        var pathsArg = Flags.Positionals("PATH", "images or folders, or one video file", optional: true);
        var weights = Flags.ExistingPath("--weights", "with a .cfg: its Darknet weights", "FILE.weights");
        var classes = Flags.ExistingPath("--classes", "with a .cfg: its class names, like coco.names; else checked against the model's classes", "FILE");
        var conf = Flags.Double("--conf", "minimum score of a kept box", .25, 0, 1);
        var iou = Flags.Double("--iou", "NMS IoU threshold", .45, 0, 1);
        var imgSize = Flags.IntOrNull("--img-size", "with a .cfg: network input side (default: the cfg's)", min: 32);
        var outDir = Flags.Text("--out", "output folder (default runs/detect-predict/expN); for a video also FILE.mp4 (or .mkv, .avi, ...)", "DIR|FILE");
        var source = Flags.Text("--source", "a camera (/dev/video0), a stream URL or any input ffmpeg opens, instead of PATH", "SRC");
        var sourceFormat = Flags.Text("--source-format", "ffmpeg's input format for --source (its -f: v4l2, dshow, avfoundation, lavfi, ...); default: ffmpeg's guess, v4l2 for /dev/video*", "FMT");
        var stride = Flags.Int("--stride", "video: run the model on every Nth frame", 1, min: 1);
        command.Add(modelArg);
        command.Add(pathsArg);
        foreach (var option in new Option[] { weights, classes, conf, iou, imgSize, outDir, source, sourceFormat, stride })
            command.Add(option);
        command.SetAction(parse =>
        {
            var inputs = parse.GetValue(pathsArg) ?? [];
            string? format = VideoInput.Format(parse.GetValue(sourceFormat), parse.GetValue(source));
            var video = VideoInput.Choose(inputs, parse.GetValue(source), parse.Given(stride) ? "--stride" : null);
            if (video is null && inputs.Length == 0)
                throw new SharpVisionException("'detect predict' needs at least one PATH (images, folders or a video) or --source. Run 'sharpvision detect predict --help' for usage.");
            string model = parse.GetValue(modelArg)!;
            var options = new DetectOptions { Confidence = (float)parse.GetValue(conf), Iou = (float)parse.GetValue(iou) };
            using var detector = OpenDetector(model, parse.GetValue(weights), parse.GetValue(classes), parse.GetValue(imgSize));
            if (video is not null)
            {
                var outputs = VideoInput.Outputs(video, parse.GetValue(outDir), "detect-predict", "detections.jsonl")
                    with { Stride = parse.GetValue(stride), InputFormat = format };
                var run = VideoProgressBar.Run($"Detecting in {video}", progress => detector.PredictVideo(video, outputs, options, progress, Interrupts.Token));
                return VideoInput.Saved(run);
            }
            return Predict(detector, inputs, options, parse.GetValue(outDir) ?? RunFolder.NextExperiment(Path.Combine("runs", "detect-predict")));
        });
        return command;
    }

    private static Detector OpenDetector(string model, string? weights, string? classes, int? imgSize)
    {
        if (!model.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase))
        {
            if (imgSize is not null) throw new InvalidOptionException("--img-size", "only with a Darknet .cfg (a trained model keeps its size)", imgSize.Value.ToString(CultureInfo.InvariantCulture));
            var detector = Detector.Load(model);
            try
            {
                if (classes is not null) RequireClasses(detector, classes);
            }
            catch
            {
                detector.Dispose();
                throw;
            }
            return detector;
        }
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
        return Detector.LoadDarknet(cfg, weights, classes);
    }

    private static int Predict(Detector detector, IReadOnlyList<string> inputs, DetectOptions options, string outDir)
    {
        var paths = ExpandImages(inputs);
        if (paths.Count == 0) throw new SharpVisionException("detect predict: no images found in the given paths.");
        var run = detector.Predict(paths, options, outDir);
        foreach (var image in run.Images)
            Console.WriteLine($"{image.Path}: {image.Objects.Count} object(s)" +
                string.Concat(image.Objects.Take(5).Select(o => $" {o.ClassName} {o.Score:0.00}")));
        foreach (var e in run.Skipped) Console.WriteLine($"skipped {e.Path}: {e.Reason}");
        Console.WriteLine($"Results saved to {outDir} (drawn images, detections.txt, detections.json)");
        return 0;
    }

    private static Command CreateEvaluate()
    {
        var command = new Command("evaluate", "COCO (AP, AP50, ...) and VOC mAP of a detector on annotated data.\nRuns the detector over DATA's images and scores its boxes against DATA's.\n" +
            "MODEL may be an exported .onnx detector (ONNX Runtime). --classes checks a names file against the model's classes.");
        var modelArg = Flags.Positional("MODEL", "a detector .svmodel, run folder or exported .onnx");
        var dataArg = Flags.Positional("DATA", "annotation lines, a VOC folder, a YOLO folder or a COCO json");
        var json = Flags.Switch("--json", "one JSON object on stdout (messages go to stderr)");
        var conf = Flags.Double("--conf", "minimum score of a kept box", .005, 0, 1);
        var iou = Flags.Double("--iou", "NMS IoU threshold", .45, 0, 1);
        var classes = Flags.ExistingPath("--classes", "class names, one per line: refused unless they are the model's classes", "FILE");
        command.Add(modelArg);
        command.Add(dataArg);
        foreach (var option in new Option[] { json, conf, iou, classes })
            command.Add(option);
        command.SetAction(parse => Evaluate(parse.GetValue(modelArg)!, parse.GetValue(dataArg)!, parse.GetValue(json), (float)parse.GetValue(conf), (float)parse.GetValue(iou),
            parse.GetValue(classes)));
        return command;
    }

    /// <summary>--classes with a trained or exported model: the file must list the model's classes, in order.</summary>
    private static void RequireClasses(Detector detector, string classes)
    {
        try
        {
            detector.RequireClasses(classes);
        }
        catch (SharpVisionException e) when (e is not DatasetException)
        {
            throw new SharpVisionException("--classes " + e.Message, e);
        }
    }

    private static int Evaluate(string model, string data, bool json, float conf, float iou, string? classes)
    {
        using var detector = Detector.Load(model);
        if (classes is not null) RequireClasses(detector, classes);
        var log = json ? Console.Error : Console.Out;
        var report = detector.Evaluate(data, new DetectOptions { Confidence = conf, Iou = iou }, log.WriteLine);
        if (json) Console.WriteLine(report.ToJson());
        else Console.Write(report.ToText());
        return 0;
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
