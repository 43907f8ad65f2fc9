using SharpVision.Api;
using SharpVision.Data.Detection;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Api;

/// <summary>The C# face of <c>sharpvision detect train / predict / evaluate</c> on generated shapes.</summary>
[Collection("Global torch RNG")]
public sealed class DetectorApiTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-detapi");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Train_one_tiny_epoch_then_load_predict_and_evaluate()
    {
        // Given a few generated shapes images
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 6, seed: 2, size: 64, valFraction: .34);
        var epochs = new List<EpochProgress>();

        // When a tiny detector trains one epoch from C#
        var run = Detector.Train(shapes.TrainFile, new DetectorTrainOptions
        {
            Val = shapes.ValFile, Classes = shapes.ClassesFile, Model = "yolov3-tiny-quarter", ImgSize = 64, Epochs = 1,
            Batch = 4, Workers = 0, Out = Path.Combine(_dir, "run"),
        }, new TrainEvents { Epochs = new SyncProgress<EpochProgress>(epochs.Add) });

        // Then the run folder is written and the epoch was reported with the detection metrics
        foreach (var file in new[] { "args.yaml", "classes.txt", "anchors.txt", "results.csv", "curves.png" })
            Assert.True(File.Exists(Path.Combine(run.RunDir, file)), file);
        Assert.True(File.Exists(run.BestPath));
        Assert.Single(epochs);
        Assert.Contains("val_map50", epochs[0].Logs.Keys);

        // And the trained detector loads, predicts (drawing into a folder) and evaluates
        using var detector = Detector.Load(run.RunDir);
        Assert.Equal(File.ReadAllLines(shapes.ClassesFile).Where(l => l.Length > 0), detector.Classes);
        var images = Directory.GetFiles(Path.Combine(_dir, "shapes"), "*.jpg", SearchOption.AllDirectories).Take(2).ToList();
        string outDir = Path.Combine(_dir, "predict");
        var found = detector.Predict(images, outputDir: outDir);
        Assert.Equal(images.Count, found.Images.Count + found.Skipped.Count);
        Assert.True(File.Exists(Path.Combine(outDir, "detections.txt")));
        var report = detector.Evaluate(shapes.ValFile);
        Assert.InRange(report.Coco.AP50, 0, 1);
    }

    [Fact]
    public void Errors_name_the_option_record_property()
    {
        var e = Assert.Throws<InvalidOptionException>(() => Detector.Train("train.txt", new DetectorTrainOptions { FineTune = (1, 0) }));
        Assert.StartsWith("DetectorTrainOptions.FineTune must be E1,E2", e.Message);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>Detectors are registered by name like classifiers.</summary>
public sealed class DetectorRegistryTests
{
    [Fact]
    public void Built_in_yolo_variants_are_registered_and_a_duplicate_name_is_refused()
    {
        Assert.Equal(["yolov3", "yolov3-tiny", "yolov3-tiny-half", "yolov3-tiny-quarter"], global::SharpVision.Models.DetectorRegistry.Names);
        using var net = global::SharpVision.Models.DetectorRegistry.Create("yolov3-tiny-quarter", new global::SharpVision.Models.DetectorOptions(3, 64, global::SharpVision.Models.YoloCfg.DefaultAnchors("yolov3-tiny", 64)));
        Assert.Equal(3, net.Classes);
        Assert.Throws<InvalidOperationException>(() => global::SharpVision.Models.DetectorRegistry.Register("yolov3-tiny", 6, _ => throw new NotSupportedException()));
    }
}
