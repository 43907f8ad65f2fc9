using System.IO.Compression;
using SharpVision.Api;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights;

/// <summary>
/// minicnn became 32/64/128 wide (issue 11); model files written while it was 16/32/64 recorded no width and must
/// still load, predict and fine-tune as the network they hold.
/// </summary>
[Collection("Global torch RNG")]
public sealed class MiniCnnWidthFileTests : IDisposable
{
    private const int Size = 16;
    private static readonly string[] Classes = ["blue", "red"];
    private readonly string _dir = TestImages.TempDir("sv-width");
    private readonly string _data;

    public MiniCnnWidthFileTests() => _data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 6);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// minicnn as main (f3a6aba) defined it, 16/32/64 filters, written out here rather than asked of <see cref="MiniCnn"/>
    /// so that the test keeps the old network whatever MiniCnn becomes.
    /// </summary>
    private static SequentialModel OldMiniCnn(int numClasses)
    {
        var b = new SequentialBuilder("minicnn", Size, 3);
        foreach (int filters in new[] { 16, 32, 64 })
        {
            if (filters > 16) b.MaxPooling2D(2);
            for (int i = 0; i < 2; i++)
                b.Conv2D(filters, 3, padding: PaddingKind.Same, useBias: false).BatchNormalization(momentum: 0.9).Activation(ActivationKind.Relu);
        }
        return new SequentialModel(b.GlobalAveragePooling2D().Dropout(0.3).Dense(10, ActivationKind.Softmax).Spec, numClasses, "minicnn");
    }

    /// <summary>
    /// A binary minicnn file byte for byte in main's layout: a zip of config.json (main's keys, as main's best.svmodel of
    /// `sharpvision demo` has them: no width) and model.safetensors (the state_dict, stored uncompressed). Its weights and
    /// BatchNorm statistics are random, so every one of them shows in the outputs.
    /// </summary>
    private static SequentialModel WriteOldFile(string path)
    {
        torch.manual_seed(5);
        var model = OldMiniCnn(numClasses: 1);
        using (no_grad())
            foreach (var (_, buffer) in model.named_buffers())
                if (buffer.dtype == ScalarType.Float32) buffer.uniform_(0.5, 1.5);
        model.eval();
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var writer = new StreamWriter(zip.CreateEntry("config.json").Open()))
            writer.Write($$"""
                {
                  "format": "sharpvision-model",
                  "version": 1,
                  "task": "classification",
                  "architecture": "minicnn",
                  "spec": null,
                  "num_classes": 1,
                  "classes": [
                    "blue",
                    "red"
                  ],
                  "preprocessing": {
                    "Size": {{Size}},
                    "Channels": 3,
                    "ChannelOrder": "RGB",
                    "Scale": 0.003921569,
                    "Mean": [
                      0,
                      0,
                      0
                    ],
                    "Std": [
                      1,
                      1,
                      1
                    ],
                    "MeanImage": null,
                    "Interpolation": "Bilinear"
                  },
                  "cfg": null,
                  "created": "2026-12-07T01:28:28.5738167+00:00",
                  "sharpvision_version": "0.1.0.0"
                }
                """);
        using var weights = zip.CreateEntry("model.safetensors", CompressionLevel.NoCompression).Open();
        Safetensors.SaveStateDict(weights, model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().contiguous()), leaveOpen: true);
        return model;
    }

    private static long Parameters(nn.Module model) => model.parameters().Sum(p => p.numel());

    [Fact]
    public void File_written_before_the_width_was_recorded_loads_16_wide_and_predicts_as_the_old_network()
    {
        // Given a minicnn file in main's layout (16/32/64, no width in config.json) and a few images
        string file = Path.Combine(_dir, "old.svmodel");
        using var old = WriteOldFile(file);
        var images = Directory.GetFiles(_data, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var expected = ClassifierInference.Run(old, old.Info.Preprocessing,
            new ClassificationDataset(images.Select(f => new ImageSample(f, 0)).ToList(), Classes), images.Count, CPU, workers: 0);

        // When it is read and predicts with today's code
        var config = ModelFile.ReadConfig(file);
        using var classifier = Classifier.Load(file, new InferenceOptions { Batch = images.Count, Workers = 0, Device = "cpu" });
        var predicted = classifier.Predict(images);

        // Then it is the 16-wide network (72,369 parameters with one output, as main counted them)
        // and every probability is the old network's, bit for bit
        Assert.Equal(MiniCnn.UnrecordedWidth, config.Width);
        var (_, network) = ModelFile.Load(file);
        using (network) Assert.Equal(Parameters(old), Parameters(network));
        Assert.Equal(72_369L, Parameters(old));
        Assert.Equal(images.Count, predicted.Images.Count);
        for (int i = 0; i < images.Count; i++)
            Assert.Equal(expected.Probabilities[i], predicted.Images[i].Probabilities);
        Assert.Contains(predicted.Images, p => p.Score is > 0.01f and < 0.99f); // outputs that can differ, not saturated ones
    }

    [Fact]
    public void Fine_tuning_an_old_file_trains_at_its_width_and_the_new_files_record_it()
    {
        // Given a minicnn file from before the width was recorded
        string file = Path.Combine(_dir, "old.svmodel");
        WriteOldFile(file).Dispose();

        // When a run starts from it without naming a width
        var run = Classifier.Train(_data, new ClassifierTrainOptions
        {
            Model = "minicnn", Weights = file, ImgSize = Size, Batch = 4, Epochs = 1, ValSplit = 0.25, Workers = 0, Out = Path.Combine(_dir, "run"),
        });

        // Then it builds the file's 16-wide network, and its args.yaml and model files say so
        Assert.Equal(16, run.Config.Width);
        Assert.Equal(16, ArgsYaml.Read<ClassifierTrainOptions>(Path.Combine(run.RunDir, "args.yaml"), "test").Width);
        foreach (var saved in new[] { run.BestPath, run.LastPath })
        {
            using var zip = ZipFile.OpenRead(saved);
            using var json = new StreamReader(zip.GetEntry("config.json")!.Open());
            Assert.Contains("\"width\": 16", json.ReadToEnd());
            var (config, network) = ModelFile.Load(saved);
            using (network) Assert.Equal(72_369L, Parameters(network));
        }
    }

    [Fact]
    public void Asking_another_width_than_the_weights_file_has_names_the_width_option()
    {
        // Given an old (16-wide) minicnn file
        string file = Path.Combine(_dir, "old.svmodel");
        WriteOldFile(file).Dispose();

        // When a run asks for width 32 and starts from it
        var e = Assert.Throws<ModelFileException>(() => Classifier.Train(_data, new ClassifierTrainOptions
        {
            Model = "minicnn", Width = 32, Weights = file, ImgSize = Size, Epochs = 1, Workers = 0, Out = Path.Combine(_dir, "run"),
        }));

        // Then the error says both widths and the option
        Assert.Equal($"ClassifierTrainOptions.Weights {file} is a minicnn of width 16; this run builds one of width 32 (ClassifierTrainOptions.Width).", e.Message);
    }

    [Fact]
    public void New_file_records_the_network_width_and_rebuilds_at_it()
    {
        // Given a minicnn of a width that is neither the default nor the unrecorded one, saved with a config that names none
        torch.manual_seed(2);
        using var model = MiniCnn.Create(numClasses: 3, imageSize: Size, width: 8);
        string file = Path.Combine(_dir, "w8.svmodel");
        ModelFile.Save(file, model, new ModelConfig { Architecture = "minicnn", NumClasses = 3, Classes = ["a", "b", "c"], Preprocessing = model.Info.Preprocessing });

        // When it is loaded
        var (config, loaded) = ModelFile.Load(file);

        // Then the file holds width 8 and the network has every weight of the saved one
        using (loaded)
        {
            Assert.Equal(8, config.Width);
            Assert.Equal(8, loaded.Info.Width);
            foreach (var (key, t) in model.state_dict())
                Assert.True(t.eq(loaded.state_dict()[key]).all().item<bool>(), key);
        }
    }

    [Fact]
    public void Saving_with_a_config_of_another_width_is_refused()
    {
        using var model = MiniCnn.Create(numClasses: 3, imageSize: Size, width: 8);
        var config = new ModelConfig { Architecture = "minicnn", Width = 16, NumClasses = 3, Classes = ["a", "b", "c"], Preprocessing = model.Info.Preprocessing };

        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(Path.Combine(_dir, "x.svmodel"), model, config));

        Assert.StartsWith("the config says width 16; the minicnn network is 8 wide", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x.svmodel")));
    }
}
