using System.Globalization;
using SharpVision.Data.Detection;
using SharpVision.Tests.Data;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using SharpVision.Weights.Pretrained;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>--pretrained imagenet</c> (ML.NET's ResNet-18, preprocessed with a 224x224 mean image) at other input sides:
/// detection trains at 320-608 and classification at any --img-size, with the mean image's per-channel average.
/// </summary>
[Collection("Console")]
public sealed class PretrainedImageNetSizeTests
{
    private static double[] Column(string resultsCsv, string name)
    {
        var lines = File.ReadAllLines(resultsCsv);
        int i = Array.IndexOf(lines[0].Split(','), name);
        Assert.True(i >= 0, $"no {name} column in {lines[0]}");
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[i], CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void Detect_train_yolov3_resnet18_with_pretrained_imagenet_at_96_px_fine_tunes_to_finite_losses()
    {
        // Given a tiny shapes set at 96 px (a multiple of 32 that is not the mean image's 224)
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 6, seed: 3, size: 96, valFraction: .34);
        string run = Path.Combine(dir.Path, "run");

        // When the README's command runs with --pretrained imagenet and one epoch per fine-tune stage
        var train = Cli.Run("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
            "--model", "yolov3-resnet18", "--pretrained", "imagenet", "--img-size", "96", "--fine-tune", "1,1",
            "--batch", "4", "--workers", "0", "--out", run);

        // Then both stages ran with finite losses and the weights were written
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        Assert.Contains("--pretrained imagenet: resnet18-mlnet backbone with ImageNet weights", train.Out);
        string results = Path.Combine(run, "results.csv");
        var losses = Column(results, "loss");
        Assert.Equal(2, losses.Length);
        Assert.All(losses, l => Assert.True(double.IsFinite(l), $"loss {l}"));
        Assert.True(File.Exists(Path.Combine(run, "weights", "best.svmodel")));
        Assert.True(File.Exists(Path.Combine(run, "weights", "last.svmodel")));

        // And the detector reloads at 96 px for predict
        var image = Directory.GetFiles(Path.Combine(dir.Path, "shapes", "JPEGImages")).Order().First();
        var predict = Cli.Run("detect", "predict", run, image, "--out", Path.Combine(dir.Path, "pred"));
        Assert.True(predict.ExitCode == 0, predict.Error + predict.Out);
    }

    [Fact]
    public void Train_resnet18_with_pretrained_imagenet_at_96_px_records_the_per_channel_mean()
    {
        // Given a small two-class folder
        using var dir = new TempDir();
        string data = TestImages.WriteFolders(Path.Combine(dir.Path, "data"), perClass: 6);
        string run = Path.Combine(dir.Path, "run");

        // When resnet18 --pretrained imagenet trains at 96 px
        var train = Cli.Run("train", data, "--model", "resnet18", "--pretrained", "imagenet", "--img-size", "96",
            "--epochs", "1", "--batch", "4", "--workers", "0", "--out", run);

        // Then it finishes, and the model file says how to feed it: 96 px, BGR 0..255 minus the mean image's channel means
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        Assert.All(Column(Path.Combine(run, "results.csv"), "loss"), l => Assert.True(double.IsFinite(l), $"loss {l}"));
        var (config, model) = ModelFile.Load(Path.Combine(run, "weights", "last.svmodel"));
        model.Dispose();
        var exact = MlNetResNet18.ImageNetPreprocessing();
        Assert.Equal("resnet18-mlnet", config.Architecture);
        Assert.Equal(96, config.Preprocessing.Size);
        Assert.Null(config.Preprocessing.MeanImage);
        Assert.Equal(("BGR", 1f), (config.Preprocessing.ChannelOrder, config.Preprocessing.Scale));
        Assert.Equal(exact.ChannelMean(), config.Preprocessing.Mean);
    }
}
