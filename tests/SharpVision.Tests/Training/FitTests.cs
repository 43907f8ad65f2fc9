using SharpVision.Data;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using ProgressBar = SharpVision.Cli.ProgressBar;
using static SharpVision.Tests.Training.TestKit;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

// Seeded from libtorch's global generator and judged against accuracy bars: runs alone (see ResumeStateTests).
[Collection("Global torch RNG")]
public class FitTests
{
    private sealed class StepCounter : Callback
    {
        public int Steps;
        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs) => Steps++;
    }

    [Fact]
    public void Fit_on_separable_data_reaches_high_accuracy_and_lowers_the_loss()
    {
        // Given 3 separable classes and a linear model
        random.manual_seed(1);
        var model = new TinyNet(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 8, Optimizer = "adam", LearningRate = 0.05, TopK = 2 });
        var output = new StringWriter();
        var csvPath = Path.Combine(Directory.CreateTempSubdirectory("sv-fit").FullName, "results.csv");
        // When
        var history = trainer.Fit(model, epoch => Separable(3, 6, 16, seed: epoch), () => Separable(3, 2, 16, seed: 99),
            [new CsvLogger(csvPath), new ProgressBar(plainOutput: output, interactive: false)]);
        // Then
        Assert.Equal(8, history.Count);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, history.Epochs);
        var loss = history.Get("loss");
        Assert.True(loss[^1] < loss[0] * 0.5, $"loss {loss[0]} -> {loss[^1]}");
        Assert.True(history.Get("val_accuracy")[^1] > 0.95);
        Assert.True(history.Get("accuracy")[^1] > 0.95);
        Assert.True(history.Contains("top2_accuracy") && history.Contains("val_top2_accuracy"));
        Assert.All(history.Get("lr"), lr => Assert.Equal(0.05, lr, 9));
        Assert.All(history.Get("seconds"), s => Assert.True(s > 0));
        // CSV and console got one row/line per epoch
        var rows = CsvLogger.Read(csvPath);
        Assert.Equal(8, rows.Count);
        Assert.Equal(history.Get("val_loss")[^1], rows[^1]["val_loss"], 12);
        Assert.Equal(8, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("Epoch 1/8 - ", output.ToString());
    }

    [Fact]
    public void Fit_trains_a_binary_model_with_one_logit()
    {
        random.manual_seed(2);
        var model = new TinyNet(1);
        var trainer = new Trainer(new TrainOptions { Epochs = 6, Optimizer = "sgd", LearningRate = 0.5, Momentum = 0.9, ClassWeights = [1f, 1f] });
        var history = trainer.Fit(model, epoch => Separable(2, 6, 16, seed: epoch), () => Separable(2, 2, 16, seed: 5));
        Assert.True(history.Get("val_accuracy")[^1] > 0.95);
        Assert.True(history.Get("loss")[^1] < history.Get("loss")[0]);
    }

    [Fact]
    public void TerminateOnNaN_stops_at_the_first_nan_batch()
    {
        // Given images full of NaN, so the very first loss is NaN
        var model = new TinyNet(3);
        var counter = new StepCounter();
        var trainer = new Trainer(new TrainOptions { Epochs = 5, Optimizer = "sgd", LearningRate = 0.1 });
        List<Batch> NanBatches() => Enumerable.Range(0, 4)
            .Select(_ => new Batch(full(8, 1, 2, 2, float.NaN), zeros(8, dtype: ScalarType.Int64), [])).ToList();
        // When
        var history = trainer.Fit(model, _ => NanBatches(), null, [new TerminateOnNaN(), counter]);
        // Then: one step, one epoch, a clear reason
        Assert.Equal(1, counter.Steps);
        Assert.Equal(1, history.Count);
        Assert.True(double.IsNaN(history.Get("loss")[0]));
        Assert.Contains("invalid loss", history.StopReason);
    }

    [Fact]
    public void Fit_resumes_from_initial_epoch_and_counts_skipped_images()
    {
        var model = new TinyNet(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 4, InitialEpoch = 2, LearningRate = 0.01 });
        var skipped = new List<ImageDecodeException> { new("a.jpg", "truncated"), new("b.jpg", "not an image") };
        List<Batch> Data(int epoch)
        {
            var batches = Separable(3, 2, 4, epoch);
            batches.Add(new Batch(zeros(0, 1, 2, 2), zeros(0, dtype: ScalarType.Int64), skipped));
            return batches;
        }
        var seen = new List<int>();
        var history = trainer.Fit(model, e => { seen.Add(e); return Data(e); }, null);
        Assert.Equal(new[] { 2, 3 }, seen);
        Assert.Equal(new[] { 3, 4 }, history.Epochs);
        Assert.All(history.Get("skipped"), s => Assert.Equal(2, s));
        Assert.False(history.Contains("val_loss"));
    }

    [Fact]
    public void EarlyStopping_inside_fit_ends_training_and_reports_why()
    {
        var model = new TinyNet(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 20, LearningRate = 1e-9 });
        // A loss that cannot improve by 1.0: stops after patience epochs
        var history = trainer.Fit(model, e => Separable(3, 1, 4, e), () => Separable(3, 1, 4, 1),
            [new EarlyStopping(monitor: "val_loss", minDelta: 1.0, patience: 2)]);
        Assert.Equal(3, history.Count);
        Assert.Contains("early stopping", history.StopReason);
    }
}
