using System.Globalization;
using SharpVision.Data;
using SharpVision.Tests.TestSupport;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using static TorchSharp.torch;
using Sv = SharpVision.Tests.Cli.Cli;

namespace SharpVision.Tests.Faults;

/// <summary>
/// A loss that turns NaN stops training with a clear message, and <c>best</c> keeps the last good weights: it loads,
/// its weights are finite and equal those of the best epoch before the NaN. Before the fix, an epoch whose loss was
/// NaN could still be saved as best (its NaN val_loss counted as the first best value).
/// </summary>
[Collection("Console")]
public sealed class NanLossTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-nan");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>No normalisation and no activation: plain SGD at a rate of 10 with momentum 0.99 diverges to NaN.</summary>
    private const string LinearYaml = """
        input: {size: 16}
        layers:
          - Conv2D: {filters: 4, kernel_size: 3}
          - Flatten: {}
          - Dense: {units: 16}
          - Dense: {units: 1, activation: sigmoid}
        """;

    private static ModelConfig Config(TinyClassifier m) =>
        new() { Architecture = "tiny", NumClasses = 2, Classes = ["a", "b"], Preprocessing = m.Info.Preprocessing };

    /// <summary>4 batches of 8 random 8x8 images, labels by the mean of the red channel; NaN images when poisoned.</summary>
    private static List<Batch> Batches(int seed, bool poisoned)
    {
        var g = new Random(seed);
        var batches = new List<Batch>();
        for (int b = 0; b < 4; b++)
        {
            var x = new float[8 * 3 * 8 * 8];
            var y = new long[8];
            for (int i = 0; i < 8; i++)
            {
                y[i] = g.Next(2);
                for (int k = 0; k < 3 * 64; k++)
                    x[i * 192 + k] = poisoned ? float.NaN : (float)(g.NextDouble() + (k < 64 ? y[i] : 0));
            }
            batches.Add(new Batch(tensor(x, [8, 3, 8, 8]), tensor(y), []));
        }
        return batches;
    }

    /// <summary>Keeps a CPU copy of the weights after every epoch, keyed by the 1-based epoch.</summary>
    private sealed class Snapshots(TinyClassifier model) : Callback
    {
        public readonly Dictionary<int, Dictionary<string, Tensor>> ByEpoch = [];
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => ByEpoch[epoch + 1] = StateDicts.CloneToCpu(model);
    }

    private static void AssertSameWeights(Dictionary<string, Tensor> expected, TinyClassifier actual)
    {
        var got = actual.state_dict();
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (key, t) in expected)
        {
            Assert.True(t.isfinite().all().item<bool>(), $"{key} is not finite");
            Assert.True(t.eq(got[key]).all().item<bool>(), $"{key} differs");
        }
    }

    [Fact]
    public void Nan_loss_mid_training_stops_with_a_clear_message_and_best_keeps_the_last_good_weights()
    {
        // Given a trainer with TerminateOnNaN and a best-only checkpoint, on data that turns NaN in epoch 3
        manual_seed(3);
        using var model = new TinyClassifier(2);
        string best = Path.Combine(_dir, "best.svmodel");
        var snapshots = new Snapshots(model);
        var trainer = new Trainer(new TrainOptions { Epochs = 6, Optimizer = "sgd", LearningRate = 0.1 });
        var warnings = new List<string>();
        trainer.Warning += warnings.Add;

        // When it trains
        var history = trainer.Fit(model, e => Batches(e, poisoned: e >= 2), () => Batches(100, poisoned: false),
            [new TerminateOnNaN(), snapshots, new ModelCheckpoint(best, (p, _) => ModelFile.Save(p, model, Config(model)), monitor: "val_loss", saveBestOnly: true)]);

        // Then it stops in epoch 3 at its first batch, saying why
        Assert.Equal(new[] { 1, 2, 3 }, history.Epochs);
        Assert.Equal("Epoch 3, batch 1: invalid loss (NaN), terminating training. Try a lower learning rate or check the input data.", history.StopReason);
        Assert.Contains(warnings, w => w == $"loss is NaN; not saving {best} (the weights are not usable).");
        // And best holds the better of epochs 1 and 2, exactly
        var valLoss = history.Get("val_loss");
        Assert.True(double.IsNaN(valLoss[2]));
        int bestEpoch = valLoss[1] < valLoss[0] ? 2 : 1;
        var (_, loaded) = ModelFile.Load(best, _ => new TinyClassifier(2));
        using (loaded)
            AssertSameWeights(snapshots.ByEpoch[bestEpoch], (TinyClassifier)loaded);
    }

    [Fact]
    public void Nan_loss_in_the_first_epoch_writes_no_best_model()
    {
        // Given data that is NaN from the start
        using var model = new TinyClassifier(2);
        string best = Path.Combine(_dir, "first.svmodel");
        var trainer = new Trainer(new TrainOptions { Epochs = 3, Optimizer = "sgd", LearningRate = 0.1 });

        // When it trains
        var history = trainer.Fit(model, e => Batches(e, poisoned: true), () => Batches(100, poisoned: false),
            [new TerminateOnNaN(), new ModelCheckpoint(best, (p, _) => ModelFile.Save(p, model, Config(model)), monitor: "val_loss", saveBestOnly: true)]);

        // Then it stops, and no NaN model is passed off as the best one
        Assert.Single(history.Epochs);
        Assert.Contains("invalid loss (NaN)", history.StopReason);
        Assert.False(File.Exists(best));
    }

    [Fact]
    public void Diverging_cli_training_stops_on_nan_and_best_is_the_finite_best_epoch()
    {
        // Given a model with no normalisation or activation, trained with plain SGD at a rate of 10 and momentum 0.99
        // (it diverges to NaN within a few epochs; the first is still finite)
        string train = TestImages.WriteFolders(Path.Combine(_dir, "train"), perClass: 8);
        string val = TestImages.WriteFolders(Path.Combine(_dir, "val"), perClass: 4, seed: 1);
        string yaml = Path.Combine(_dir, "linear.yaml");
        File.WriteAllText(yaml, LinearYaml);
        string run = Path.Combine(_dir, "run");

        // When it trains through the CLI
        var r = Sv.Run("train", train, "--val", val, "--model", yaml, "--epochs", "8", "--batch", "8", "--optimizer", "sgd",
            "--lr", "10", "--momentum", "0.99", "--workers", "1", "--out", run);

        // Then it stops early with the reason, leaving best (a finite epoch) with finite weights
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Matches(@"Epoch \d+, batch \d+: invalid loss \((NaN|-?Infinity)\), terminating training\. Try a lower learning rate", r.Out);
        var rows = File.ReadAllLines(Path.Combine(run, "results.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.InRange(rows.Count, 2, 7);
        string bestFile = Path.Combine(run, "weights", "best.svmodel");
        var (_, model) = ModelFile.Load(bestFile);
        using (model)
            Assert.All(model.state_dict(), kv => Assert.True(kv.Value.isfinite().all().item<bool>(), kv.Key));
        // And the NaN did reach the weights: last.svmodel (the resumable state) holds them, best was kept from them
        var (_, last) = ModelFile.Load(Path.Combine(run, "weights", "last.svmodel"));
        using (last)
            Assert.Contains(last.state_dict(), kv => !kv.Value.isfinite().all().item<bool>());
        Assert.DoesNotContain("No best model", r.Out);
    }

    [Fact]
    public void Cli_training_that_is_nan_from_its_first_epoch_saves_no_best_model_and_says_so()
    {
        // Given the same diverging setup with batches of 1 (more steps: NaN within epoch 1)
        string train = TestImages.WriteFolders(Path.Combine(_dir, "train"), perClass: 8);
        string yaml = Path.Combine(_dir, "linear.yaml");
        File.WriteAllText(yaml, LinearYaml);
        string run = Path.Combine(_dir, "run");

        // When it trains
        var r = Sv.Run("train", train, "--model", yaml, "--epochs", "3", "--batch", "1", "--optimizer", "sgd",
            "--lr", "10", "--momentum", "0.99", "--workers", "1", "--out", run);

        // Then it stops in epoch 1, and no diverged model is saved as best
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.True(r.Out.Contains("Epoch 1, batch ") && r.Out.Contains("terminating training"), r.Out);
        Assert.False(File.Exists(Path.Combine(run, "weights", "best.svmodel")));
        Assert.Contains("No best model saved: no epoch had a finite val_loss", r.Out);
    }
}
