using SharpVision.Api;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Tests.TestSupport;
using SharpVision.Tests.Training;
using SharpVision.Training;
using SharpVision.Weights;
using static TorchSharp.torch;

namespace SharpVision.Tests.Cli;

/// <summary><c>train --precision bf16</c> from the command line to the run folder.</summary>
[Collection("Console")]
public class PrecisionFlagTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-precision");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Bf16Fact]
    public void Train_with_precision_bf16_records_it_and_saves_float32_models_that_load_as_before()
    {
        // Given a small two-class folder set
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 16);
        string run = Path.Combine(_dir, "run");

        // When trained in bf16 mixed precision
        var (code, output, err) = Cli.Run("train", data, "--model", "minicnn", "--img-size", "24", "--epochs", "2", "--batch", "8",
            "--lr", "0.01", "--workers", "1", "--precision", "bf16", "--out", run);

        // Then the run says so, args.yaml records it for --resume, and every epoch's losses are finite
        Assert.True(code == 0, err + output);
        Assert.Contains("bf16 mixed precision", output);
        Assert.Contains("precision: bf16", File.ReadAllText(Path.Combine(run, "args.yaml")));
        Assert.Equal(Precision.Bf16, ArgsYaml.Read<ClassifierTrainOptions>(Path.Combine(run, "args.yaml"), "test").Precision);
        var rows = TrainingCurves.FromCsv(Path.Combine(run, "results.csv"));
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.True(double.IsFinite(r["loss"]) && double.IsFinite(r["val_loss"]), $"loss {r["loss"]}, val_loss {r["val_loss"]}"));
        // And best and last store float32 tensors only, and load and predict like any model
        foreach (var name in new[] { "best", "last" })
        {
            string file = Path.Combine(run, "weights", name + ModelFile.Extension);
            Assert.All(MixedPrecisionTests.StoredDtypes(file), kv => Assert.True(kv.Value is ScalarType.Float32 or ScalarType.Int64, $"{name}: {kv.Key} is {kv.Value}"));
            var (_, model) = ModelFile.Load(file);
            using (model)
            using (no_grad())
            {
                model.eval();
                using var logits = model.call(rand(2, 3, 24, 24));
                Assert.Equal(ScalarType.Float32, logits.dtype);
                Assert.True(logits.isfinite().all().item<bool>());
            }
        }
    }

    [Fact]
    public void Args_yaml_without_precision_reads_as_fp32_and_fp32_is_written()
    {
        // An args.yaml written before the option existed has no precision line: it reads back as fp32.
        string path = Path.Combine(_dir, "args.yaml");
        File.WriteAllText(path, "data: 'd'\nmodel: 'minicnn'\n");

        Assert.Equal(Precision.Fp32, ArgsYaml.Read<ClassifierTrainOptions>(path, "test").Precision);
        Assert.Contains("\nprecision: fp32\n", ArgsYaml.Write(new ClassifierTrainOptions()));
    }

    [Theory]
    [InlineData("fp8")]
    [InlineData("1")]          // a member's number is not its name
    [InlineData("'fp32,bf16'")] // nor is a combination of names
    public void Malformed_precision_in_args_yaml_names_the_key_and_the_choices(string value)
    {
        string path = Path.Combine(_dir, "args.yaml");
        File.WriteAllText(path, $"data: 'd'\nprecision: {value}\n");

        var e = Assert.Throws<SharpVisionException>(() => ArgsYaml.Read<ClassifierTrainOptions>(path, "sharpvision train"));

        Assert.EndsWith($"precision must be one of fp32, bf16. Received: {value.Trim('\'')}", e.Message);
    }
}
