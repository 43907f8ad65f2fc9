using System.CommandLine;
using SharpVision.Api;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Imaging;
using SharpVision.Weights.Onnx;
using SharpVision.Reports;
using SharpVision.Weights;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision predict MODEL PATH...</c>: labels and scores for image files and folders, as a terminal
/// table, a CSV, a competition submission and an image grid.
/// </summary>
public static class PredictCommand
{
    /// <summary>Grids larger than this would be unreadable; only the first images are drawn.</summary>
    public const int MaxGridImages = 64;

    /// <summary>With a CSV written, the terminal shows only this many rows.</summary>
    public const int MaxPrintedRows = 20;

    private const string Description = """
        Labels and scores for image files and folders: a terminal table, a CSV, a competition submission, an image grid.
        Unreadable files and files without a numeric id are listed with the reason; the rest are still predicted.
        A video (PATH clip.mp4, or --source /dev/video0 / rtsp://... / any input ffmpeg opens; needs ffmpeg on PATH): the
        top --top-k classes of every --stride'th frame as JSON lines, {"frame", "time", "top": [{"class_id", "class", "score"}]},
        in predictions.jsonl, and the video with the best label drawn. --out FILE.jsonl writes only the JSON lines,
        --out FILE.mp4 the video with predictions.jsonl beside it, --out DIR both in DIR (default runs/predict/expN).
        """;

    public static Command Create()
    {
        var command = new Command("predict", Description);
        var modelArg = Flags.Positional("MODEL", "a .svmodel file, a run folder (uses weights/best.svmodel) or an exported .onnx classifier");
        var paths = Flags.Positionals("PATH", "image files or folders (searched recursively), or one video file", optional: true);
        var outCsv = Flags.Text("--out", "CSV file,label,score (plus label_2,score_2,... with --top-k); default: printed only. For a video: FILE.jsonl, FILE.mp4 or DIR", "FILE.csv");
        var source = Flags.Text("--source", "a camera (/dev/video0), a stream URL or any input ffmpeg opens, instead of PATH", "SRC");
        var sourceFormat = Flags.Text("--source-format", "ffmpeg's input format for --source (its -f: v4l2, dshow, avfoundation, lavfi, ...); default: ffmpeg's guess, v4l2 for /dev/video*", "FMT");
        var stride = Flags.Int("--stride", "video: classify every Nth frame", 1, min: 1);
        var topK = Flags.Int("--top-k", "how many best labels per image", 1, min: 1);
        var probabilities = Flags.Switch("--probabilities", "adds one column p_<class> per class to the CSV");
        var grid = Flags.Text("--grid", $"draws the images (the first {MaxGridImages}) with predicted label and score into a PNG", "FILE.png");
        var submission = Flags.Text("--submission", "kaggle-dogs-vs-cats: writes id,label with label = P(dog), the id being the number in each file name (test1/123.jpg -> 123), sorted by id; --out defaults to submission.csv",
            "kaggle-dogs-vs-cats");
        var idFromFilename = Flags.Switch("--id-from-filename", "the same id,label file for any model: label = P(positive class) with two classes, else the predicted class name");
        var batch = Flags.Int("--batch", "images per forward pass", 64, min: 1);
        var workers = Flags.IntOrNull("--workers", "image-loading threads (default: planned from the cores)", 0, 64);
        var device = Flags.Text("--device", "auto, cpu, cuda or cuda:N (where torch runs)", "auto", "D");
        var engine = Flags.ChoiceOrNull("--engine",
            "what runs the network (default: torch for a .svmodel or run folder, onnxruntime for a .onnx file); onnxruntime on a .svmodel runs its ONNX export, " +
            "written next to it (weights/best.onnx) and reused while newer; auto times both on the first batch of the input and keeps the faster",
            "auto", "torch", "onnxruntime");
        command.Add(modelArg);
        command.Add(paths);
        foreach (var option in new Option[] { outCsv, topK, probabilities, grid, submission, idFromFilename, batch, workers, device, engine, source, sourceFormat, stride })
            command.Add(option);
        command.SetAction(parse =>
        {
            var inference = new InferenceOptions { Batch = parse.GetValue(batch), Device = parse.GetValue(device)!, Workers = parse.GetValue(workers), Engine = parse.GetValue(engine) };
            string? format = VideoInput.Format(parse.GetValue(sourceFormat), parse.GetValue(source));
            var inputs = parse.GetValue(paths) ?? [];
            if (VideoInput.Choose(inputs, parse.GetValue(source), parse.Given(stride) ? "--stride" : null) is { } video)
                return RunVideo(parse.GetValue(modelArg)!, video, parse.GetValue(outCsv), parse.GetValue(topK), parse.GetValue(stride), format, inference,
                    parse.Given(probabilities) || parse.Given(grid) || parse.Given(submission) || parse.Given(idFromFilename));
            return Run(parse.GetValue(modelArg)!, inputs, parse.GetValue(outCsv), parse.GetValue(topK), parse.GetValue(probabilities), parse.GetValue(grid),
                parse.GetValue(submission), parse.GetValue(idFromFilename), inference);
        });
        return command;
    }

    private static int Run(string modelArg, IReadOnlyList<string> inputs, string? outCsv, int topK, bool probabilities, string? grid,
        string? submission, bool idFromFilename, InferenceOptions inference)
    {
        SubmissionFormat? format = null;
        if (submission is not null)
        {
            if (submission != "kaggle-dogs-vs-cats")
                throw new InvalidOptionException("--submission", "kaggle-dogs-vs-cats", submission);
            if (idFromFilename)
                throw new SharpVisionException("--submission and --id-from-filename both choose the output format; give one of them.");
            format = SubmissionFormat.KaggleDogsVsCats;
        }
        else if (idFromFilename) format = SubmissionFormat.IdFromFilename;
        if (format is not null && (probabilities || topK > 1))
            throw new SharpVisionException("--probabilities and --top-k apply to the predictions CSV, not to an id,label submission.");
        if (format is not null) outCsv ??= "submission.csv";
        if (grid is not null && !grid.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOptionException("--grid", "a .png file name", grid);

        var files = CollectFiles(inputs);
        using var model = Classifier.Load(modelArg, inference);
        if (model.OnnxCache is { } cache)
        {
            if (cache.NotWritten is not null)
                Console.Error.WriteLine($"note: cannot write {cache.Path} ({cache.NotWritten}); ONNX Runtime runs an export made in memory");
            else if (cache.Exported)
                Console.WriteLine($"Exported {model.ModelPath} to {cache.Path} for ONNX Runtime (reused while newer than {Path.GetFileName(model.ModelPath)})");
        }
        if (model.ChooseEngine(files, Interrupts.Token) is { } choice)
            Console.WriteLine($"Engine: {choice.Engine} (--engine auto: {choice.Reason})");
        var result = model.Predict(files, Interrupts.Token);
        var classes = model.Classes;

        var table = result.ToTable();
        bool shortList = outCsv is not null && table.Count > MaxPrintedRows;
        var shown = shortList ? Head(table, MaxPrintedRows) : table;
        Console.Write(shown.ToText(topK));
        if (shortList) Console.WriteLine($"... {table.Count - MaxPrintedRows} more in {outCsv}");

        if (result.Skipped.Count > 0)
        {
            Console.Error.WriteLine($"{result.Skipped.Count} unreadable file(s), not predicted:");
            foreach (var s in result.Skipped) Console.Error.WriteLine($"  {s.Path}: {s.Reason}");
        }

        if (format is { } f)
        {
            var sub = Submission.Build(table, f);
            if (sub.Skipped.Count > 0)
            {
                Console.Error.WriteLine($"{sub.Skipped.Count} file(s) left out of the submission:");
                foreach (var s in sub.Skipped) Console.Error.WriteLine($"  {s.Path}: {s.Reason}");
            }
            AtomicFile.WriteAllText(outCsv!, sub.ToCsv());
            string what = classes.Count == 2 ? $"label = P({classes[1]})" : "label = predicted class";
            Console.WriteLine($"Wrote a submission of {sub.Rows.Count} ids ({what}) to {outCsv}");
        }
        else if (outCsv is not null)
        {
            AtomicFile.WriteAllText(outCsv, table.ToCsv(topK, probabilities));
            Console.WriteLine($"Wrote {table.Count} predictions to {outCsv}");
        }

        if (grid is not null && table.Count > 0)
        {
            int n = Math.Min(MaxGridImages, table.Count);
            var tiles = Enumerable.Range(0, n).Select(i =>
            {
                var (c, score) = table.Top(i, 1)[0];
                return new ImageFileTile(table.Paths[i], $"{classes[c]} {score.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)}\n{Path.GetFileName(table.Paths[i])}");
            }).ToList();
            ImageFileGrid.Save(tiles, grid, columns: Math.Min(8, n), tileSize: 128,
                title: n < table.Count ? $"Predictions (first {n} of {table.Count}): label, score" : "Predictions: label, score");
            Console.WriteLine($"Drew {n} images into {grid}");
        }
        return 0;
    }

    private static int RunVideo(string modelArg, string video, string? outArg, int topK, int stride, string? format, InferenceOptions inference, bool imageOnlyFlags)
    {
        if (imageOnlyFlags)
            throw new SharpVisionException("--probabilities, --grid, --submission and --id-from-filename apply to images; a video gives JSON lines (--top-k sets how many classes).");
        using var model = Classifier.Load(modelArg, inference);
        var outputs = VideoInput.Outputs(video, outArg, "predict", "predictions.jsonl") with { Stride = stride, Batch = inference.Batch, InputFormat = format };
        var run = VideoProgressBar.Run($"Classifying {video}", progress => model.PredictVideo(video, outputs, topK, progress, Interrupts.Token));
        return VideoInput.Saved(run);
    }

    private static List<string> CollectFiles(IReadOnlyList<string> inputs)
    {
        if (inputs.Count == 0) throw new SharpVisionException("'predict' needs at least one PATH (images, folders or a video) or --source. Run 'sharpvision predict --help' for usage.");
        var files = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p)) files.AddRange(ImageFiles.Recursive(p));
            else if (File.Exists(p)) files.Add(p);
            else throw new InvalidOptionException("PATH", "an existing image file or folder", $"{p} (not found)");
        }
        if (files.Count == 0)
            throw new DatasetException($"no image files found in {string.Join(", ", inputs)} (extensions: {string.Join(", ", ImageFiles.Extensions)}).");
        return files;
    }

    private static PredictionTable Head(PredictionTable t, int n) =>
        new(t.Paths.Take(n).ToList(), t.Probabilities.Take(n).ToArray(), t.Classes);
}
