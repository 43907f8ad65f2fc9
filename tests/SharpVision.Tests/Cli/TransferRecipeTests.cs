using System.Globalization;
using SharpVision.Api;
using SharpVision.Tests.TestSupport;
using SharpVision.Training;

namespace SharpVision.Tests.Cli;

/// <summary>The training recipe's transfer-learning paths: freezing, the feature cache, --fine-tune phases, lr-find, features.</summary>
// Runs alone: it compares two trainings seeded through libtorch's process-wide generator, and swaps Console.
[Collection("Global torch RNG")]
public class TransferRecipeTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-transfer");
    private readonly string _data;

    public TransferRecipeTests() => _data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 16);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TrainResult Train(ClassifierTrainOptions s, TextWriter log) =>
        Classifier.Train(s.Data, s, new TrainEvents { Message = log.WriteLine });

    private static LrFindResult LrFind(ClassifierTrainOptions s, double start, double end, int steps, string png, TextWriter log) =>
        Classifier.FindLearningRate(s.Data, s, start, end, steps, png, new TrainEvents { Message = log.WriteLine });

    private ClassifierTrainOptions Settings(string run) => new()
    {
        Data = _data, ValSplit = 0.25, Model = "resnet18", ImgSize = 32, Batch = 8, Epochs = 2, Seed = 5, Workers = 0,
        Out = Path.Combine(_dir, run), Lr = 0.01,
    };

    private static string[][] Rows(string run) =>
        File.ReadAllLines(Path.Combine(run, "results.csv")).Select(l => l.Split(',')).ToArray();

    [Fact]
    public void Head_trained_on_cached_features_matches_uncached_training_to_the_printed_digits()
    {
        // Given the same frozen-backbone run with and without the feature cache
        var log = new StringWriter();
        var cached = Train(Settings("cached") with { Freeze = "backbone" }, log);
        var plain = Train(Settings("plain") with { Freeze = "backbone", FeatureCache = "off" }, new StringWriter());

        // Then the cached run says so, and loss/accuracy/val_loss/val_accuracy agree to 4 decimals every epoch
        Assert.Contains("Caching backbone features for 32 images took", log.ToString());
        var a = Rows(cached.RunDir);
        var b = Rows(plain.RunDir);
        Assert.Equal(3, a.Length);
        for (int row = 1; row < a.Length; row++)
            for (int col = 1; col <= 4; col++)
                Assert.Equal(Math.Round(double.Parse(b[row][col], CultureInfo.InvariantCulture), 4),
                             Math.Round(double.Parse(a[row][col], CultureInfo.InvariantCulture), 4));
    }

    [Fact]
    public void Fine_tune_runs_both_phases_and_results_csv_shows_phase_and_rates()
    {
        // When --fine-tune 1,2 runs
        var log = new StringWriter();
        var result = Train(Settings("ft") with { FineTune = (1, 2), Epochs = 3 }, log);

        // Then results.csv has 3 epochs: phase 1 with a frozen backbone, then phase 2; each phase is one cycle of the
        // default schedule (fastai's fine_tune), peaking at lr for the head in phase 1 and at lr/2 in phase 2, where
        // the backbone's lowest group runs at 1/100 of the head's rate; each cycle ends at its peak / 25 / 1e4
        var rows = Rows(result.RunDir);
        var header = rows[0].ToList();
        int phase = header.IndexOf("phase"), lr = header.IndexOf("lr"), lrb = header.IndexOf("lr_backbone");
        Assert.True(phase > 0 && lrb > 0, string.Join(',', header));
        Assert.Equal(["1", "2", "2"], rows.Skip(1).Select(r => r[phase]));
        double Value(int row, int column) => double.Parse(rows[row][column], CultureInfo.InvariantCulture);
        Assert.Equal(0.01 / 25 / 1e4, Value(1, lr), 1e-15);
        Assert.True(Value(2, lr) > 0.005 / 25, $"epoch 2 (mid-cycle) lr {Value(2, lr)}");
        Assert.Equal(0.005 / 25 / 1e4, Value(3, lr), 1e-15);
        Assert.Equal(0, Value(1, lrb));
        Assert.Equal(Value(2, lr) / 100, Value(2, lrb), 1e-12);
        Assert.Equal(Value(3, lr) / 100, Value(3, lrb), 1e-17);
        Assert.Contains("phase 2: everything trainable", log.ToString());
        Assert.Contains("Caching backbone features", log.ToString());

        // And one best checkpoint spans both phases: its record is the lowest val_loss of all 3 epochs, not of phase 2
        // alone (a phase-2 epoch worse than phase 1's best must not replace best.svmodel)
        int valLoss = header.IndexOf("val_loss");
        double lowest = rows.Skip(1).Min(r => double.Parse(r[valLoss], CultureInfo.InvariantCulture));
        var state = TrainingState.FromJson(SharpVision.Weights.ModelFile.ReadEntry(result.LastPath, TrainingState.Entry)!, result.LastPath);
        Assert.Equal(lowest, state.Callbacks["best_checkpoint"]["best"], 1e-4);
    }

    [Fact]
    public void Lr_find_suggests_a_finite_rate_writes_the_plot_and_leaves_the_weights_alone()
    {
        string png = Path.Combine(_dir, "lr_find.png");
        var result = LrFind(Settings("lr") with { Model = "minicnn" }, 1e-6, 1, 30, png, new StringWriter());

        Assert.True(double.IsFinite(result.Suggestion) && result.Suggestion > 1e-6 && result.Suggestion < 1, result.Suggestion.ToString());
        Assert.True(result.Rates.Length >= 6);
        Assert.True(result.Rates.Zip(result.Rates.Skip(1)).All(p => p.Second > p.First));
        Assert.True(new FileInfo(png).Length > 5000);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal(900, bitmap.Width);
    }

    [Fact]
    public void Features_command_writes_npy_and_csv_that_read_back_with_the_right_shape()
    {
        // Given a trained resnet18 model file
        var run = Train(Settings("feat") with { Epochs = 1, Freeze = "backbone" }, new StringWriter());
        string model = Path.Combine(run.RunDir, "weights", "best.svmodel");
        string npy = Path.Combine(_dir, "f.npy"), csv = Path.Combine(_dir, "f.csv"), csv2 = Path.Combine(_dir, "g.csv");

        // When features are written as .npy (+ sidecar) and as .csv
        Assert.Equal(0, Cli.Run("features", model, _data, "--out", npy, "--workers", "0").ExitCode);
        Assert.Equal(0, Cli.Run("features", model, _data, "--out", csv2, "--workers", "0").ExitCode);

        // Then the .npy is float32 [32, 512], the sidecar lists 32 file,label rows, and the CSV has the same numbers
        var (rows, cols, values) = FeatureExport.ReadNpy(npy);
        Assert.Equal((32, 512), (rows, cols));
        Assert.Equal(0, (10 + BitConverter.ToUInt16(File.ReadAllBytes(npy), 8)) % 64);
        var index = File.ReadAllLines(csv);
        Assert.Equal("file,label", index[0]);
        Assert.Equal(33, index.Length);
        var table = File.ReadAllLines(csv2);
        Assert.Equal(514, table[0].Split(',').Length);
        Assert.Equal("f511", table[0].Split(',')[^1]);
        Assert.Equal(values[5], float.Parse(table[1].Split(',')[2 + 5], CultureInfo.InvariantCulture));
        Assert.Equal(index[7].Split(',')[0], table[7].Split(',')[0]);
    }

    [Fact]
    public void Pretrained_pth_loads_the_backbone_and_makes_a_new_head()
    {
        // Given a torchvision-style resnet18 state dict with a 1000-class head
        string pth = Path.Combine(_dir, "r18.pth");
        using (var source = SharpVision.Models.ModelRegistry.Create("resnet18", new SharpVision.Models.ModelOptions(1000, 32)))
            SharpVision.Weights.PyTorchWeights.Save(source, pth);
        using var file = new DisposableDict(SharpVision.Weights.PyTorchWeights.ReadStateDict(pth));

        // When a 2-class run starts from it with a frozen backbone
        var log = new StringWriter();
        var run = Train(Settings("pth") with { Epochs = 1, Freeze = "backbone", Pretrained = pth }, log);

        // Then the backbone equals the file's, the head is a new 1-output (binary) layer
        Assert.Contains("backbone weights loaded; the file's classifier (fc) dropped", log.ToString());
        var (_, model) = SharpVision.Weights.ModelFile.Load(Path.Combine(run.RunDir, "weights", "last.svmodel"));
        using (model)
        {
            var state = model.state_dict();
            Assert.True(state["layer3.1.conv2.weight"].eq(file.Values["layer3.1.conv2.weight"]).all().item<bool>());
            Assert.True(state["bn1.running_var"].eq(file.Values["bn1.running_var"]).all().item<bool>());
            Assert.Equal([1L, 512L], state["fc.weight"].shape);
        }
    }

    private sealed class DisposableDict(Dictionary<string, TorchSharp.torch.Tensor> values) : IDisposable
    {
        public Dictionary<string, TorchSharp.torch.Tensor> Values { get; } = values;
        public void Dispose() { foreach (var t in Values.Values) t.Dispose(); }
    }

    [Fact]
    public void New_options_are_validated_keras_style()
    {
        Assert.Contains("--freeze must be backbone or an integer >= 0", Cli.Run("train", _data, "--freeze", "head").Error);
        Assert.Contains("--fine-tune must be two epoch counts", Cli.Run("train", _data, "--fine-tune", "3").Error);
        Assert.Contains("--unfreeze-top must be used with --fine-tune", Cli.Run("train", _data, "--unfreeze-top", "2").Error);
        Assert.Contains("--cache-augmented must be used with --augment", Cli.Run("train", _data, "--cache-augmented", "2").Error);
        Assert.Contains("--epochs must be left out with --fine-tune", Cli.Run("train", _data, "--fine-tune", "1,1", "--epochs", "4").Error);
        Assert.Contains("--out must be a file ending in .csv or .npy", Cli.Run("features", "m.svmodel", _data, "--out", "x.txt").Error);
        Assert.Contains("--pretrained must be imagenet or an existing", Cli.Run("train", _data, "--model", "resnet50", "--pretrained", "nope.pth").Error);
    }
}
