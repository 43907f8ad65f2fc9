using SharpVision.Models;
using CliRun = SharpVision.Tests.Cli.Cli;
using SharpVision.Tests.Data;
using SharpVision.Training.Detection;
using SharpVision.Data.Detection;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training.Detection;

public sealed class MultiScaleTests
{
    private static YoloNet Tiny(int size) =>
        DetectorRegistry.Create("yolov3-tiny-quarter", new DetectorOptions(3, size, YoloCfg.DefaultAnchors("yolov3-tiny", size)));

    [Fact]
    public void A_detector_runs_at_another_side_with_grids_that_follow_it_and_returns_to_its_built_size()
    {
        // Given a quarter-width tiny YOLOv3 built for 64 px (heads of stride 32 and 16: 2x2 and 4x4 cells, 3 anchors each)
        using var model = Tiny(64);
        Assert.Equal(3 * 4 + 3 * 16, model.Rows);
        Assert.Equal(32, model.MaxStride);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.eval();

        // When it runs at 96 px
        model.SetInputSize(96);
        var output = model.call(rand(2, 3, 96, 96));

        // Then the output has 3x3 and 6x6 cells per anchor, and the heads say so
        Assert.Equal(new long[] { 2, 3 * 9 + 3 * 36, 8 }, output.shape);
        Assert.Equal([3, 6], model.Heads.Select(h => h.GridW));
        Assert.Equal(96, model.InputSize);
        // and back at its built size it gives exactly what it gave before
        model.SetInputSize(model.BuiltInputSize);
        var x = rand(1, 3, 64, 64);
        var again = model.call(x);
        Assert.Equal(new long[] { 1, 60, 8 }, again.shape);
        Assert.Equal(64, model.InputSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.SetInputSize(80));
    }

    [Fact]
    public void Multi_scale_sizes_are_stride_multiples_within_the_range_and_cover_it()
    {
        var rng = new Random(3);
        var seen = new HashSet<int>();
        for (int i = 0; i < 500; i++)
        {
            int s = DetectionTask.DrawSize(416, 32, .5, rng);
            Assert.Equal(0, s % 32);
            Assert.InRange(s, 208, 624);
            seen.Add(s);
        }
        Assert.Equal(Enumerable.Range(7, 13).Select(k => 32 * k), seen.Order());
        // never below one stride, even when the fraction would go under it
        Assert.All(Enumerable.Range(0, 50).Select(i => DetectionTask.DrawSize(64, 32, .9, new Random(i))), s => Assert.Contains(s, new[] { 32, 64, 96 }));
    }

    [Fact]
    public void A_multi_scale_batch_is_resized_with_its_boxes_and_the_loss_leaves_the_model_at_its_built_size()
    {
        // Given a detection task with multi-scale 0.5 over a 64 px model, and one image with one box plus a padding row
        using var model = Tiny(64);
        var task = new DetectionTask(model, ["a", "b", "c"]) { MultiScale = .5, Seed = 2 };
        using var scope = NewDisposeScope();
        var labels = tensor(new float[] { 8, 16, 40, 48, 1, -1, -1, -1, -1, -1 }, [1, 2, 5]);
        var sizes = new HashSet<long>();
        for (int i = 0; i < 12; i++)
        {
            // When a training batch is prepared, run and scored
            var (x, y) = task.PrepareBatch(ones(1, 3, 64, 64), labels);
            long s = x.shape[2];
            sizes.Add(s);
            float k = s / 64f;
            // Then the image is square at a stride multiple, the box scaled by the same factor, the class and padding kept
            Assert.Equal(s, x.shape[3]);
            Assert.Equal(0, s % 32);
            var l = y.data<float>().ToArray();
            Assert.Equal(new[] { 8 * k, 16 * k, 40 * k, 48 * k, 1 }, l[..5]);
            Assert.Equal(-1, l[9]);
            Assert.Equal((int)s, model.InputSize);
            var loss = task.ComputeLoss(model.call(x), y, training: true);
            Assert.True(float.IsFinite(loss.Total.item<float>()));
            Assert.Equal(64, model.InputSize);
        }
        Assert.True(sizes.Count >= 2, $"sizes drawn: {string.Join(", ", sizes)}");
    }

}

[Collection("Console")]
public sealed class MultiScaleCliTests
{
    [Fact]
    public void Detect_train_with_multi_scale_and_mosaic_saves_a_model_at_its_img_size_that_predicts()
    {
        // Given a small shapes set
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "s"), 12, seed: 4, size: 64, valFraction: .25);
        string run = Path.Combine(dir.Path, "run");

        // When detect train runs with --multi-scale 0.5 --mosaic 0.5 as a user types it
        var r = CliRun.Run("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile, "--model", "yolov3-tiny-quarter",
            "--img-size", "64", "--epochs", "2", "--batch", "4", "--workers", "0", "--multi-scale", "0.5", "--mosaic", "0.5", "--out", run);

        // Then the run records both, and its model is saved for 64 px and predicts
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        var args = File.ReadAllText(Path.Combine(run, "args.yaml"));
        Assert.Contains("multi_scale: 0.5", args);
        Assert.Contains("mosaic=0.5", args);
        using var detector = SharpVision.Api.Detector.Load(run);
        Assert.Equal(64, detector.Inner.InputWidth);
        var p = CliRun.Run("detect", "predict", run, Path.Combine(dir.Path, "s", "JPEGImages"), "--conf", "0", "--out", Path.Combine(dir.Path, "pred"));
        Assert.True(p.ExitCode == 0, p.Error);
        // and a bad value names the flag
        var bad = CliRun.Run("detect", "train", shapes.TrainFile, "--multi-scale", "1.5");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--multi-scale", bad.Error);
    }
}
