using SharpVision.Data;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using static SharpVision.Tests.Training.TestKit;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

/// <summary>
/// Cancellation in the library's loops: <see cref="Trainer.Fit"/> stops between two steps, keeps what completed
/// epochs wrote, saves the interrupted checkpoint and throws <see cref="TrainingCanceledException"/>; the lr finder
/// puts the weights back. (Real signals to the CLI: Cli/InterruptTests.)
/// </summary>
// Builds networks from libtorch's global generator: runs with the other tests that seed it (see FitTests).
[Collection("Global torch RNG")]
public sealed class CancellationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sv-cancel").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Cancels its source at the end of step <c>step</c> of epoch index <c>epoch</c>, and counts steps.</summary>
    private sealed class CancelAt(CancellationTokenSource source, int atEpoch, int atStep) : Callback
    {
        private int _epoch;
        public int Steps;
        public Exception? Aborted;
        public override void OnEpochBegin(int epoch) => _epoch = epoch;
        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
        {
            Steps++;
            if (_epoch == atEpoch && step == atStep) source.Cancel();
        }
        public override void OnTrainAborted(Exception error) => Aborted = error;
    }

    [Fact]
    public void Fit_cancelled_mid_epoch_stops_before_the_next_step_keeps_completed_epochs_and_saves_the_interrupted_checkpoint()
    {
        // Given a 5-epoch fit of 6 steps per epoch with a CSV log and a last checkpoint that also saves on interruption
        random.manual_seed(3);
        var model = new TinyNet(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 5, Optimizer = "sgd", LearningRate = 0.1 });
        using var source = new CancellationTokenSource();
        var cancel = new CancelAt(source, atEpoch: 1, atStep: 2);
        string csv = Path.Combine(_dir, "results.csv"), last = Path.Combine(_dir, "last.bin"), interrupted = Path.Combine(_dir, "interrupted.bin");
        var states = new Dictionary<string, TrainingState>();
        void Save(string path, bool _)
        {
            states[Path.GetFileName(path).Split('.')[0]] = TrainingState.Capture(trainer, new Dictionary<string, Callback>());
            File.WriteAllText(path, "weights");
        }
        var callbacks = new Callback[] { new CsvLogger(csv), new ModelCheckpoint(last, Save) { InterruptedPath = interrupted }, cancel };

        // When the token fires at the end of step 3 of epoch 2
        var stop = Assert.Throws<TrainingCanceledException>(() =>
            trainer.Fit(model, e => Separable(3, 6, 8, seed: e), () => Separable(3, 2, 8, seed: 99), callbacks, cancellationToken: source.Token));

        // Then no further step ran, epoch 1 stays logged and checkpointed, and the interrupted weights are saved
        Assert.Equal(6 + 3, cancel.Steps);
        Assert.Equal((1, 1, 3), (stop.EpochsCompleted, stop.Epoch, stop.Steps));
        Assert.Equal(source.Token, stop.CancellationToken);
        Assert.Equal([Path.GetFullPath(interrupted)], stop.SavedFiles);
        Assert.Same(stop, cancel.Aborted);
        Assert.Equal(["epoch", "1"], File.ReadAllLines(csv).Select(l => l.Split(',')[0]));
        Assert.True(File.Exists(last) && File.Exists(interrupted));
        Assert.Equal((1, (int?)null), (states["last"].EpochsCompleted, states["last"].InterruptedAtStep));
        Assert.Equal((1, (int?)3), (states["interrupted"].EpochsCompleted, states["interrupted"].InterruptedAtStep));
        Assert.Null(trainer.Interruption);
    }

    [Fact]
    public void Fit_with_a_token_cancelled_before_it_starts_runs_no_step()
    {
        // Given a token that is already cancelled
        random.manual_seed(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 2, Optimizer = "sgd" });
        using var source = new CancellationTokenSource();
        source.Cancel();
        var cancel = new CancelAt(source, -1, -1);
        // When
        var stop = Assert.Throws<TrainingCanceledException>(() =>
            trainer.Fit(new TinyNet(3), e => Separable(3, 2, 4, seed: e), null, [cancel], cancellationToken: source.Token));
        // Then
        Assert.Equal((0, 0, 0), (stop.EpochsCompleted, stop.Epoch, stop.Steps));
        Assert.Equal(0, cancel.Steps);
    }

    [Fact]
    public void Fit_that_ends_normally_deletes_an_earlier_interrupted_checkpoint()
    {
        // Given an interrupted checkpoint left by an earlier, cancelled run
        random.manual_seed(3);
        string interrupted = Path.Combine(_dir, "interrupted.bin");
        File.WriteAllText(interrupted, "old weights");
        var checkpoint = new ModelCheckpoint(Path.Combine(_dir, "last.bin"), (path, _) => File.WriteAllText(path, "w")) { InterruptedPath = interrupted };
        // When a run ends normally
        new Trainer(new TrainOptions { Epochs = 1, Optimizer = "sgd" }).Fit(new TinyNet(3), e => Separable(3, 2, 4, seed: e), null, [checkpoint]);
        // Then the stale file is gone (it no longer holds the newest weights)
        Assert.False(File.Exists(interrupted));
    }

    [Fact]
    public void Lr_finder_cancelled_between_steps_restores_the_weights_and_says_how_far_it_got()
    {
        // Given a model and a pass whose fourth batch arrives after the token fired
        random.manual_seed(3);
        var model = new TinyNet(3);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        using var source = new CancellationTokenSource();
        IEnumerable<Batch> Pass(int pass)
        {
            int n = 0;
            foreach (var batch in Separable(3, 10, 8, seed: pass))
            {
                if (++n == 4) source.Cancel();
                yield return batch;
            }
        }
        // When
        var stop = Assert.ThrowsAny<OperationCanceledException>(() =>
            LrFinder.Run(model, Pass, "sgd", start: 1e-3, end: 1, steps: 20, cancellationToken: source.Token));
        // Then
        Assert.Contains("after 3 of 20 steps", stop.Message);
        foreach (var (p, b) in model.parameters().Zip(before))
            Assert.True(p.detach().allclose(b, rtol: 0, atol: 0), "weights not restored");
    }
}
