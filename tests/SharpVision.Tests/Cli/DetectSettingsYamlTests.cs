using SharpVision.Augmentation;
using SharpVision.Api;
using SharpVision.Runs;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Cli;

/// <summary>args.yaml of <c>detect train</c> reads back into the same <see cref="DetectorTrainOptions"/>.</summary>
public sealed class DetectSettingsYamlTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-detyaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Detection_settings_with_augment_and_fine_tune_round_trip_through_args_yaml()
    {
        // Given settings with non-default augmentation, a fine-tune schedule and nulls
        var s = new DetectorTrainOptions
        {
            Data = "data/train.txt", Val = "data/val.txt", Model = "yolov3-tiny-half", ImgSize = 96, FineTune = (2, 5),
            Lr = 3e-4, Patience = 4, Augment = new BoxAugmentOptions { Jitter = .15, MinScale = .5, MaxScale = 1.25, Flip = false, Hue = .05, Mosaic = .5 },
            Seed = 7, Out = "runs/x's", Precision = SharpVision.Training.Precision.Bf16,
        };
        string path = Path.Combine(_dir, "args.yaml");

        // When written and read back
        File.WriteAllText(path, ArgsYaml.Write(s));
        var back = ArgsYaml.Read<DetectorTrainOptions>(path, "sharpvision detect train");

        // Then every value is the same (records compare by value) and the text is readable
        Assert.Equal(s, back);
        var text = File.ReadAllText(path);
        Assert.Contains("fine_tune: '2,5'", text);
        Assert.Contains("precision: bf16", text);
        Assert.Contains("augment: 'jitter=0.15,min_scale=0.5,max_scale=1.25,flip=false,hue=0.05,saturation=1.5,value=1.5,mosaic=0.5'", text);

        // And an args.yaml written before mosaic existed reads with mosaic off
        File.WriteAllText(path, "data: 'd'\naugment: 'jitter=0.15,min_scale=0.5,max_scale=1.25,flip=false,hue=0.05,saturation=1.5,value=1.5'\n");
        Assert.Equal(0, ArgsYaml.Read<DetectorTrainOptions>(path, "sharpvision detect train").Augment!.Mosaic);
    }

    [Fact]
    public void Malformed_fine_tune_in_args_yaml_names_the_key_and_the_expected_form()
    {
        string path = Path.Combine(_dir, "args.yaml");
        File.WriteAllText(path, "data: 'd'\nfine_tune: '(3, 2)'\n");

        var e = Assert.Throws<SharpVisionException>(() => ArgsYaml.Read<DetectorTrainOptions>(path, "sharpvision detect train"));

        Assert.Contains("fine_tune must be a comma-separated Int32,Int32. Received: (3, 2)", e.Message);
    }
}
