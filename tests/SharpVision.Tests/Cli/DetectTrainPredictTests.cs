using System.Text.Json;
using SharpVision.Data.Detection;
using SharpVision.Tests.Data;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public sealed class DetectTrainPredictTests
{
    [Fact]
    public void Detect_train_writes_run_folder_then_predict_and_evaluate_use_it()
    {
        // Given a tiny shapes set (64 px)
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 10, seed: 2, size: 64, valFraction: .2);
        string run = Path.Combine(dir.Path, "run");

        // When a quarter-width tiny YOLOv3 trains two epochs on it
        var train = Cli.Run("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--epochs", "2", "--batch", "4", "--workers", "0", "--out", run);

        // Then results.csv has the loss parts and val_map50 per epoch, and the best/last models exist
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        var lines = File.ReadAllLines(Path.Combine(run, "results.csv"));
        Assert.Equal("epoch,loss,loss_xy,loss_wh,loss_obj,loss_cls,val_map50,lr,seconds", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("2,", lines[2]);
        Assert.True(File.Exists(Path.Combine(run, "weights", "best.svmodel")));
        Assert.True(File.Exists(Path.Combine(run, "weights", "last.svmodel")));
        Assert.Contains("Best val mAP@0.5", train.Out);
        // args.yaml records the resolved settings; curves.png has the loss, mAP and learning-rate panels
        var args = File.ReadAllText(Path.Combine(run, "args.yaml"));
        Assert.Contains("model: 'yolov3-tiny-quarter'", args);
        Assert.Contains("img_size: 64", args);
        using (var png = SkiaSharp.SKBitmap.Decode(Path.Combine(run, "curves.png")))
            Assert.True(png.Width >= 2 * SharpVision.Reports.TrainingCurves.PanelWidth, $"{png.Width} px wide");

        // When the detector is exported: safetensors holds its Darknet-named weights; ONNX its graph with the classes
        string weightsFile = Path.Combine(dir.Path, "detector.safetensors");
        var export = Cli.Run("export", run, "--format", "safetensors", "--out", weightsFile);
        Assert.True(export.ExitCode == 0, export.Error);
        string header = File.ReadAllText(weightsFile);
        Assert.Contains("network.layers.0.weights", header[..Math.Min(header.Length, 8192)]);
        string onnxFile = Path.Combine(dir.Path, "detector.onnx");
        var onnx = Cli.Run("export", run, "--format", "onnx", "--out", onnxFile);
        Assert.True(onnx.ExitCode == 0, onnx.Error);
        Assert.Equal(["circle", "square", "triangle"], global::SharpVision.Weights.Onnx.OnnxDetectorInfo.Read(onnxFile).Classes);
        // and the classifier commands say what it is instead of "unknown architecture"
        var evaluate = Cli.Run("evaluate", run, dir.Path);
        Assert.Equal(1, evaluate.ExitCode);
        Assert.Contains("a yolov3-tiny-quarter detector, not a classifier: use 'sharpvision detect predict'", evaluate.Error);

        // When predicting two images with the run folder (no confidence floor, so every box is written)
        var images = Directory.GetFiles(Path.Combine(dir.Path, "shapes", "JPEGImages")).Order().Take(2).ToArray();
        string outDir = Path.Combine(dir.Path, "pred");
        var predict = Cli.Run(["detect", "predict", run, .. images.Reverse(), "--conf", "0", "--out", outDir]);

        // Then drawn images, detections.txt (sorted input order) and detections.json (image_id = position + 1)
        Assert.True(predict.ExitCode == 0, predict.Error + predict.Out);
        Assert.True(File.Exists(Path.Combine(outDir, Path.GetFileNameWithoutExtension(images[0]) + ".png")));
        var txt = File.ReadAllLines(Path.Combine(outDir, "detections.txt"));
        Assert.Equal(2, txt.Length);
        Assert.StartsWith(images[0], txt[0]);
        Assert.Equal(6, txt[0].Split(' ')[1].Split(',').Length);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")));
        var first = json.RootElement.EnumerateArray().First();
        Assert.Equal(1, first.GetProperty("image_id").GetInt32());
        Assert.InRange(first.GetProperty("category_id").GetInt32(), 1, 3);
        Assert.Equal(Path.GetFileName(images[0]), first.GetProperty("file_name").GetString());

        // When evaluating on the validation annotations
        var eval = Cli.Run("detect", "evaluate", run, shapes.ValFile, "--json");
        Assert.True(eval.ExitCode == 0, eval.Error + eval.Out);
        using var metrics = JsonDocument.Parse(eval.Out);
        Assert.True(metrics.RootElement.TryGetProperty("AP50", out _), eval.Out);
    }

    [Fact]
    public void Detect_train_with_unknown_model_names_the_choices()
    {
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 4, size: 64, valFraction: 0);
        var r = Cli.Run("detect", "train", shapes.TrainFile, "--model", "yolov5", "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--model must be", r.Error);
        Assert.Contains("Received: --model=yolov5", r.Error);
    }

    [Fact]
    public void Detect_predict_runs_a_darknet_cfg_with_its_weights_and_names()
    {
        // Given a 2-class tiny cfg, weights for it and a names file
        using var dir = new TempDir();
        string cfg = Path.Combine(dir.Path, "tiny.cfg");
        File.WriteAllText(cfg, global::SharpVision.Models.YoloCfg.Tiny(2, 64, [(4, 4), (8, 8), (12, 12), (20, 20), (30, 30), (60, 60)], .25));
        TorchSharp.torch.manual_seed(7);
        using (var model = new global::SharpVision.Models.YoloModel(File.ReadAllText(cfg), "tiny"))
            global::SharpVision.Weights.DarknetWeights.Write(Path.Combine(dir.Path, "tiny.weights"), model.Network);
        string names = dir.Write("two.names", "cat\ndog\n");
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 2, size: 64, valFraction: 0);
        string images = Path.Combine(dir.Path, "shapes", "JPEGImages");

        // When predicting a folder with a low threshold
        string outDir = Path.Combine(dir.Path, "pred");
        var r = Cli.Run("detect", "predict", cfg, images, "--weights", Path.Combine(dir.Path, "tiny.weights"), "--classes", names, "--conf", "0.01", "--out", outDir);

        // Then both images are listed in sorted order with drawn copies
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        var txt = File.ReadAllLines(Path.Combine(outDir, "detections.txt"));
        Assert.Equal(2, txt.Length);
        Assert.StartsWith(Path.Combine(images, "000001.jpg"), txt[0]);
        Assert.True(File.Exists(Path.Combine(outDir, "000002.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "detections.json")));
    }

    [Fact]
    public void Detect_predict_with_a_cfg_but_no_weights_says_what_is_missing()
    {
        using var dir = new TempDir();
        string cfg = dir.Write("x.cfg", "[net]\nwidth=32\nheight=32\n");
        string img = Path.Combine(dir.Path, "a.png");
        SharpVision.Tests.Data.Detection.DetectionFixtures.Png(img, 8, 8);
        var r = Cli.Run("detect", "predict", cfg, img);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("needs --weights", r.Error);
    }

    [Fact]
    public void Voc_folder_converts_and_trains_end_to_end()
    {
        // Given a VOC-style folder (Annotations, JPEGImages, ImageSets/Main/{train,val}.txt)
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "VOC"), 8, seed: 4, size: 64, valFraction: .25);
        string voc = Path.Combine(dir.Path, "VOC");

        // When converted like voc_annotation.py and trained directly on the VOC folder and on the lines
        var toTrain = Cli.Run("convert", "voc", voc, "--classes", shapes.ClassesFile, "--sets", "train", "--out", Path.Combine(dir.Path, "train.txt"));
        var toVal = Cli.Run("convert", "voc", voc, "--classes", shapes.ClassesFile, "--sets", "val", "--out", Path.Combine(dir.Path, "val.txt"));
        var train = Cli.Run("detect", "train", Path.Combine(dir.Path, "train.txt"), "--val", Path.Combine(dir.Path, "val.txt"), "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--epochs", "1", "--batch", "4", "--workers", "0", "--out", Path.Combine(dir.Path, "run"));
        var fromFolder = Cli.Run("detect", "train", voc, "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--epochs", "1", "--batch", "4", "--workers", "0", "--out", Path.Combine(dir.Path, "run2"));

        // Then both runs finish with a best model
        Assert.True((toTrain.ExitCode, toVal.ExitCode) == (0, 0), toTrain.Error + toVal.Error);
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        Assert.Contains("Training: 6 images", train.Out);
        Assert.True(File.Exists(Path.Combine(dir.Path, "run", "weights", "best.svmodel")));
        Assert.True(fromFolder.ExitCode == 0, fromFolder.Error + fromFolder.Out);
        Assert.True(File.Exists(Path.Combine(dir.Path, "run2", "weights", "best.svmodel")));
    }

    [Fact]
    public void Fine_tune_runs_a_frozen_stage_then_all_layers_at_a_tenth_of_the_rate()
    {
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 6, seed: 5, size: 64, valFraction: .34);
        string run = Path.Combine(dir.Path, "run");
        var r = Cli.Run("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--fine-tune", "1,1", "--lr", "0.002", "--batch", "4", "--workers", "0", "--out", run);
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Contains("Stage 1: 1 epochs with the backbone", r.Out);
        Assert.Contains("Stage 2: 1 epochs with every layer trainable", r.Out);
        var rows = File.ReadAllLines(Path.Combine(run, "results.csv"));
        Assert.Equal(3, rows.Length);
        var header = rows[0].Split(',');
        int lr = Array.IndexOf(header, "lr");
        Assert.Equal(0.002, double.Parse(rows[1].Split(',')[lr], System.Globalization.CultureInfo.InvariantCulture), 6);
        Assert.Equal(0.0002, double.Parse(rows[2].Split(',')[lr], System.Globalization.CultureInfo.InvariantCulture), 6);
        Assert.StartsWith("2,", rows[2]);

        var both = Cli.Run("detect", "train", shapes.TrainFile, "--epochs", "3", "--fine-tune", "1,1", "--out", Path.Combine(dir.Path, "x"));
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("--epochs", both.Error);
    }
}
