using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SharpVision.Api;
using SharpVision.Data.Detection;
using SharpVision.Evaluation.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Tests.Data;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using Xunit.Abstractions;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>detect predict RUN</c> (TorchSharp) and <c>detect predict model.onnx</c> (ONNX Runtime, after <c>export RUN --format
/// onnx</c>) on the same images give the same boxes, for every detector family we train or load. The files round boxes
/// to 0.01 px (detections.txt, detections.json), so they must agree to that rounding; the in-memory results of the
/// same engine (<see cref="Detector.Predict"/>, what the command calls) must agree within 1e-3 px and 1e-4 in score.
/// </summary>
[Collection("Console")]
public sealed class OnnxDetectPredictParityTests(ITestOutputHelper output, CliFixture fixture) : IDisposable
{
    private const float Confidence = .3f;
    private const double BoxTolerance = 1e-3, ScoreTolerance = 1e-4;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Debian's yolov3-tiny.cfg (package darknet, /usr/share/darknet/cfg), its layers as shipped; [net] without the training keys.</summary>
    private const string DebianYolov3TinyCfg = """
        [net]
        batch=1
        width=416
        height=416
        channels=3

        [convolutional]
        batch_normalize=1
        filters=16
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        batch_normalize=1
        filters=32
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        batch_normalize=1
        filters=64
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        batch_normalize=1
        filters=128
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        batch_normalize=1
        filters=256
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        batch_normalize=1
        filters=512
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=1

        [convolutional]
        batch_normalize=1
        filters=1024
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        batch_normalize=1
        filters=256
        size=1
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        batch_normalize=1
        filters=512
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        size=1
        stride=1
        pad=1
        filters=255
        activation=linear

        [yolo]
        mask = 3,4,5
        anchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319
        classes=80
        num=6
        jitter=.3
        ignore_thresh = .7
        truth_thresh = 1
        random=1

        [route]
        layers = -4

        [convolutional]
        batch_normalize=1
        filters=128
        size=1
        stride=1
        pad=1
        activation=leaky

        [upsample]
        stride=2

        [route]
        layers = -1, 8

        [convolutional]
        batch_normalize=1
        filters=256
        size=3
        stride=1
        pad=1
        activation=leaky

        [convolutional]
        size=1
        stride=1
        pad=1
        filters=255
        activation=linear

        [yolo]
        mask = 0,1,2
        anchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319
        classes=80
        num=6
        jitter=.3
        ignore_thresh = .7
        truth_thresh = 1
        random=1
        """;

    [Theory]
    [InlineData("yolov3-tiny", 128)]
    [InlineData("yolov3-tiny-half", 96)]
    [InlineData("yolov3", 128)]
    [InlineData("yolov3-resnet18", 128)]
    public void Onnx_export_of_a_detection_run_predicts_the_same_boxes_as_the_run(string family, int size)
    {
        // Given a run folder holding a detector with non-trivial random weights, and images of several sizes and aspects (one a JPEG)
        var clock = Stopwatch.StartNew();
        var images = WriteImages();
        string run = Path.Combine(_dir.Path, "run");
        SaveRun(run, family, size, ImageDecoder.Decode(images[0]));

        // When it is exported to ONNX and both files predict the images, as a user types it
        string onnx = Path.Combine(_dir.Path, "model.onnx");
        var export = Cli.Run("export", run, "--format", "onnx", "--out", onnx);
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.Contains($"{family} detector, 3 classes", export.Out);

        // Then the drawn files and the in-memory results agree
        var info = OnnxDetectorInfo.Read(onnx);
        Assert.Equal(ShapesDataset.Classes, info.Classes);
        Assert.Equal(OnnxDetectorInfo.SharpVisionLetterbox, info.Letterbox);
        Assert.Equal((size, size), (info.InputWidth, info.InputHeight));
        CompareCommandAndEngine(run, onnx, images, [], family);
        output.WriteLine($"{family} at {size}: {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void Onnx_export_of_a_darknet_cfg_with_weights_predicts_the_same_boxes_as_the_cfg()
    {
        // Given Debian's yolov3-tiny.cfg (80 classes, 416 px) with random non-trivial Darknet .weights and an 80-name file
        var clock = Stopwatch.StartNew();
        var images = WriteImages();
        string cfg = _dir.Write("yolov3-tiny.cfg", DebianYolov3TinyCfg);
        string weights = Path.Combine(_dir.Path, "yolov3-tiny.weights");
        TorchSharp.torch.manual_seed(3);
        using (var model = new YoloModel(DebianYolov3TinyCfg, "yolov3-tiny"))
        {
            // 80 classes: class logits centred low, so a box passes for a few classes, not forty.
            DetectorTestWeights.Randomize(model, ImageDecoder.Decode(images[0]), Confidence, boxes: 60, classCentre: -4);
            DarknetWeights.Write(weights, model.Network);
        }
        string names = _dir.Write("coco.names", string.Concat(Enumerable.Range(0, 80).Select(i => $"class{i}\n")));

        // When it is exported as a user types it
        string onnx = Path.Combine(_dir.Path, "yolov3-tiny.onnx");
        var export = Cli.Run("export", cfg, "--weights", weights, "--classes", names, "--format", "onnx", "--out", onnx);
        Assert.True(export.ExitCode == 0, export.Error);

        // Then it records Darknet's letterbox and gives the cfg's boxes
        var info = OnnxDetectorInfo.Read(onnx);
        Assert.Equal(OnnxDetectorInfo.DarknetLetterbox, info.Letterbox);
        Assert.Equal("none", info.Metadata[OnnxDetectorInfo.MaxLogSizeKey]);
        Assert.Equal([(13, 13), (26, 26)], info.Grids);
        CompareCommandAndEngine(cfg, onnx, images, ["--weights", weights, "--classes", names], "darknet yolov3-tiny.cfg");
        output.WriteLine($"darknet yolov3-tiny.cfg: {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void Detect_predict_of_an_onnx_export_runs_where_libtorch_cannot_load()
    {
        // Given an exported yolov3-tiny-quarter, and a copy of the CLI without libtorch's native libraries
        var images = WriteImages();
        string run = Path.Combine(_dir.Path, "run");
        SaveRun(run, "yolov3-tiny-quarter", 64, ImageDecoder.Decode(images[0]));
        string onnx = Path.Combine(_dir.Path, "model.onnx");
        Assert.Equal(0, Cli.Run("export", run, "--format", "onnx", "--out", onnx).ExitCode);
        string cli = CopyCliWithoutLibTorch(Path.Combine(_dir.Path, "cli"));

        // When that copy predicts with the ONNX file and with the run
        string byOnnx = Path.Combine(_dir.Path, "no-libtorch-onnx");
        var onnxRun = RunCopy(cli, "detect", "predict", onnx, Path.Combine(_dir.Path, "images"), "--conf", Fmt(Confidence), "--out", byOnnx);
        var torchRun = RunCopy(cli, "detect", "predict", run, Path.Combine(_dir.Path, "images"), "--conf", Fmt(Confidence), "--out", Path.Combine(_dir.Path, "no-libtorch-run"));

        // Then the ONNX file works and gives the run's boxes (as this process, with libtorch, computes them); the run fails for want of libtorch
        Assert.True(onnxRun.Code == 0, onnxRun.Error + onnxRun.Out);
        string withTorch = Path.Combine(_dir.Path, "with-libtorch");
        Assert.Equal(0, Cli.Run("detect", "predict", run, Path.Combine(_dir.Path, "images"), "--conf", Fmt(Confidence), "--out", withTorch).ExitCode);
        CompareFiles(Path.Combine(withTorch, "detections.txt"), Path.Combine(byOnnx, "detections.txt"));
        Assert.Equal(1, torchRun.Code);
        Assert.True(torchRun.Error.Contains("libtorch", StringComparison.Ordinal), torchRun.Error);
        Assert.DoesNotContain("   at ", torchRun.Error);
    }

    [Fact]
    public void Detect_predict_and_evaluate_check_a_classes_file_against_the_model()
    {
        // Given a detector of the shapes classes (circle, square, triangle), its ONNX export and labelled shapes
        var shapes = ShapesDataset.Generate(Path.Combine(_dir.Path, "shapes"), 2, seed: 5, size: 64, valFraction: 0);
        string run = Path.Combine(_dir.Path, "run");
        SaveRun(run, "yolov3-tiny-quarter", 64, null);
        string onnx = Path.Combine(_dir.Path, "model.onnx");
        Assert.Equal(0, Cli.Run("export", run, "--format", "onnx", "--out", onnx).ExitCode);
        string image = Directory.GetFiles(Path.Combine(_dir.Path, "shapes", "JPEGImages")).Order().First();
        string coco = _dir.Write("coco.names", "person\nbicycle\ncar\nmotorbike\naeroplane\n");
        string reordered = _dir.Write("reordered.names", "circle\ntriangle\nsquare\n");

        // When both commands get the model's own class list, then a longer one and a reordered one
        var predictSame = Cli.Run("detect", "predict", onnx, image, "--classes", shapes.ClassesFile, "--out", Path.Combine(_dir.Path, "p1"));
        var evaluateSame = Cli.Run("detect", "evaluate", run, shapes.TrainFile, "--classes", shapes.ClassesFile, "--json");
        var predictOther = Cli.Run("detect", "predict", onnx, image, "--classes", coco, "--out", Path.Combine(_dir.Path, "p2"));
        var evaluateOther = Cli.Run("detect", "evaluate", run, shapes.TrainFile, "--classes", reordered);
        var predictReordered = Cli.Run("detect", "predict", run, image, "--classes", reordered, "--out", Path.Combine(_dir.Path, "p3"));
        var evaluateOnnxOther = Cli.Run("detect", "evaluate", onnx, shapes.TrainFile, "--classes", coco);

        // Then the same names proceed, and other names are refused naming both lists (and the first difference), without a trace
        Assert.True(predictSame.ExitCode == 0, predictSame.Error);
        Assert.True(evaluateSame.ExitCode == 0, evaluateSame.Error);
        foreach (var refused in new[] { predictOther, evaluateOnnxOther })
        {
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"--classes {coco} has 5 names (person, bicycle, car, motorbike, ...) but the model's classes are 3 (circle, square, triangle)", refused.Error);
            Assert.DoesNotContain("   at ", refused.Error);
        }
        foreach (var refused in new[] { evaluateOther, predictReordered })
        {
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"--classes {reordered} has 3 names (circle, triangle, square) but the model's classes are 3 (circle, square, triangle); " +
                "the first difference is class 1: 'triangle' in the file, 'square' in the model", refused.Error);
            Assert.DoesNotContain("   at ", refused.Error);
        }
    }

    [Fact]
    public void Predict_and_detect_predict_name_the_command_for_the_other_kind_of_onnx_file()
    {
        // Given a detector's ONNX export and a classifier's
        string run = Path.Combine(_dir.Path, "run");
        SaveRun(run, "yolov3-tiny-quarter", 64, null);
        string detector = Path.Combine(_dir.Path, "detector.onnx"), classifier = Path.Combine(_dir.Path, "classifier.onnx");
        Assert.Equal(0, Cli.Run("export", run, "--format", "onnx", "--out", detector).ExitCode);
        Assert.Equal(0, Cli.Run("export", fixture.ThreeClassModel, "--format", "onnx", "--out", classifier).ExitCode);
        string image = Path.Combine(_dir.Path, "a.png");
        ImageEncoder.SavePng(DetectorTestWeights.Picture(1, 40, 30), image);

        // When each is given to the other kind's command
        var predict = Cli.Run("predict", detector, image);
        var detect = Cli.Run("detect", "predict", classifier, image, "--out", Path.Combine(_dir.Path, "out"));

        // Then each names the command to use
        Assert.Equal(1, predict.ExitCode);
        Assert.Contains("is a yolov3-tiny-quarter detector, not a classifier: use 'sharpvision detect predict'", predict.Error);
        Assert.Equal(1, detect.ExitCode);
        Assert.Contains("is a classification model (minicnn), not a detector: use 'sharpvision predict'", detect.Error);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /// <summary>Four images: 200x150 and 120x260 and 97x61 PNGs, and a 320x320 JPEG; sorted paths.</summary>
    private List<string> WriteImages()
    {
        string folder = Path.Combine(_dir.Path, "images");
        Directory.CreateDirectory(folder);
        var specs = new (string Name, int W, int H)[] { ("a.png", 200, 150), ("b.png", 120, 260), ("c.jpg", 320, 320), ("d.png", 97, 61) };
        var paths = new List<string>();
        for (int i = 0; i < specs.Length; i++)
        {
            var (name, w, h) = specs[i];
            var picture = DetectorTestWeights.Picture(10 + i, w, h);
            string path = Path.Combine(folder, name);
            if (name.EndsWith(".jpg", StringComparison.Ordinal)) ImageEncoder.SaveJpeg(picture, path, quality: 90);
            else ImageEncoder.SavePng(picture, path);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>A run folder (weights/best.svmodel) with a <paramref name="family"/> detector of the shapes classes, randomised on <paramref name="calibration"/> (null: fresh weights).</summary>
    private static void SaveRun(string run, string family, int size, RgbImage? calibration)
    {
        TorchSharp.torch.manual_seed(1);
        var anchors = YoloCfg.DefaultAnchors(family == "yolov3" ? "yolov3" : "yolov3-tiny", size);
        using YoloNet model = family.StartsWith(YoloBackboneModel.Prefix + "resnet", StringComparison.Ordinal)
            ? new YoloBackboneModel(family[YoloBackboneModel.Prefix.Length..], ModelRegistry.Create(family[YoloBackboneModel.Prefix.Length..], new ModelOptions(1000, size)), 3, size, anchors)
            : DetectorRegistry.Create(family, new DetectorOptions(3, size, anchors));
        if (calibration is not null) DetectorTestWeights.Randomize(model, calibration, Confidence, boxes: 40, classCentre: 1);
        Directory.CreateDirectory(Path.Combine(run, "weights"));
        ModelFile.Save(Path.Combine(run, "weights", "best.svmodel"), model, YoloDetector.ConfigFor(model, family, ShapesDataset.Classes));
    }

    /// <summary>
    /// <c>detect predict MODEL</c> and <c>detect predict ONNX</c> on the images: their detections.txt agree to the file's
    /// 0.01 px rounding; then the same two detectors in memory agree within the tolerances, with tens of boxes.
    /// </summary>
    private void CompareCommandAndEngine(string model, string onnx, List<string> images, string[] modelArgs, string what)
    {
        string byModel = Path.Combine(_dir.Path, "by-model"), byOnnx = Path.Combine(_dir.Path, "by-onnx");
        var first = Cli.Run(["detect", "predict", model, Path.Combine(_dir.Path, "images"), .. modelArgs, "--conf", Fmt(Confidence), "--out", byModel]);
        var second = Cli.Run("detect", "predict", onnx, Path.Combine(_dir.Path, "images"), "--conf", Fmt(Confidence), "--out", byOnnx);
        Assert.True(first.ExitCode == 0, first.Error + first.Out);
        Assert.True(second.ExitCode == 0, second.Error + second.Out);
        CompareFiles(Path.Combine(byModel, "detections.txt"), Path.Combine(byOnnx, "detections.txt"));
        Assert.Equal(File.ReadAllText(Path.Combine(byModel, "detections.json")).Length > 2, File.ReadAllText(Path.Combine(byOnnx, "detections.json")).Length > 2);

        var options = new DetectOptions { Confidence = Confidence };
        using var reference = modelArgs.Length == 0 ? Detector.Load(model) : Detector.LoadDarknet(model, modelArgs[1], modelArgs[3]);
        using var exported = Detector.Load(onnx);
        Assert.True(exported.Inner.IsOnnx);
        var expected = reference.Predict(images, options);
        var actual = exported.Predict(images, options);
        double worstBox = 0, worstScore = 0;
        int total = 0;
        for (int i = 0; i < images.Count; i++)
        {
            var (e, a) = (expected.Images[i].Objects, actual.Images[i].Objects);
            Assert.True(e.Count == a.Count, $"{images[i]}: {e.Count} boxes from {model}, {a.Count} from the ONNX file");
            total += e.Count;
            for (int j = 0; j < e.Count; j++)
            {
                Assert.Equal(e[j].ClassId, a[j].ClassId);
                worstBox = new[] { worstBox, Math.Abs(e[j].X1 - a[j].X1), Math.Abs(e[j].Y1 - a[j].Y1), Math.Abs(e[j].X2 - a[j].X2), Math.Abs(e[j].Y2 - a[j].Y2) }.Max();
                worstScore = Math.Max(worstScore, Math.Abs(e[j].Score - a[j].Score));
            }
        }
        output.WriteLine($"{what}: {total} boxes on {images.Count} images; max box diff {worstBox:E2} px, max score diff {worstScore:E2}");
        Assert.True(total >= 10, $"only {total} boxes: the weights test too little");
        Assert.True(worstBox <= BoxTolerance, $"{what}: box corners differ by up to {worstBox:E3} px");
        Assert.True(worstScore <= ScoreTolerance, $"{what}: scores differ by up to {worstScore:E3}");
    }

    /// <summary>Two detections.txt files: same images, boxes and classes; coordinates within the 0.01 px the file rounds to, scores within 1e-4.</summary>
    private static void CompareFiles(string expectedFile, string actualFile)
    {
        var expected = File.ReadAllLines(expectedFile);
        var actual = File.ReadAllLines(actualFile);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            var e = expected[i].Split(' ');
            var a = actual[i].Split(' ');
            Assert.Equal(e[0], a[0]);
            Assert.True(e.Length == a.Length, $"{e[0]}: {e.Length - 1} boxes against {a.Length - 1}");
            for (int j = 1; j < e.Length; j++)
            {
                var x = e[j].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                var y = a[j].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                Assert.Equal(x[4], y[4]);
                for (int c = 0; c < 4; c++)
                    Assert.True(Math.Abs(x[c] - y[c]) <= .01 + BoxTolerance, $"{e[0]} box {j}: {e[j]} against {a[j]}");
                Assert.True(Math.Abs(x[5] - y[5]) <= ScoreTolerance, $"{e[0]} box {j}: {e[j]} against {a[j]}");
            }
        }
    }

    private static string Fmt(float v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The built CLI (managed files and the native libraries it needs) without libtorch, libc10, libgomp or libLibTorchSharp.</summary>
    private static string CopyCliWithoutLibTorch(string target)
    {
        string source = AppContext.BaseDirectory;
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        string native = Path.Combine("runtimes", "linux-x64", "native");
        Directory.CreateDirectory(Path.Combine(target, native));
        var torch = new Regex("torch|c10|gomp|shm|jitbackend|nnapi|aoti|backend_with_compiler", RegexOptions.IgnoreCase);
        foreach (var file in Directory.GetFiles(Path.Combine(source, native)).Where(f => !torch.IsMatch(Path.GetFileName(f))))
            File.Copy(file, Path.Combine(target, native, Path.GetFileName(file)));
        return Path.Combine(target, "SharpVision.Cli.dll");
    }

    private static (int Code, string Out, string Error) RunCopy(string cliDll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(cliDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill();
            throw new TimeoutException($"sharpvision {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
