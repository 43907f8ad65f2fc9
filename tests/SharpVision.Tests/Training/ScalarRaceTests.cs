using System.Runtime.InteropServices;
using SharpVision.Training;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

public class ScalarRaceTests
{
    /// <summary>TinyNet whose forward fails with c10's freed-Scalar message on the calls listed.</summary>
    private sealed class Flaky(int classes, params int[] failingCalls) : nn.Module<Tensor, Tensor>(nameof(Flaky))
    {
        private readonly TestKit.TinyNet _net = new(classes);
        public int Calls { get; private set; }

        public override Tensor forward(Tensor input)
        {
            if (failingCalls.Contains(++Calls))
                throw new ExternalException("Expected false to be true, but got false.  (Could this error message be improved?)");
            return _net.call(input);
        }

        protected override void Dispose(bool disposing) { if (disposing) _net.Dispose(); base.Dispose(disposing); }
    }

    [Fact]
    public void A_step_failing_once_with_the_freed_scalar_error_is_run_again_with_a_warning()
    {
        // Given a model whose second and fifth forward calls fail like TorchSharp's Scalar race
        using var model = new Flaky(3, 2, 5);
        var trainer = new Trainer(new TrainOptions { Epochs = 2, LearningRate = 0.1, Optimizer = "sgd" });
        var warnings = new List<string>();
        trainer.Warning += warnings.Add;

        // When it trains 2 epochs of 4 batches
        var history = trainer.Fit(model, epoch => TestKit.Separable(3, 4, 8, seed: epoch), null, []);

        // Then every epoch completes, the two failures were retried and reported, and the loss is finite
        Assert.Equal(2, history.Count);
        Assert.Equal(2, warnings.Count(w => w.Contains("freed TorchSharp Scalar")));
        Assert.Contains("epoch 1, step 2", warnings[0]);
        Assert.Equal(2 * 4 + 2, model.Calls);
        Assert.True(double.IsFinite(history.Get("loss")[^1]));
    }

    [Fact]
    public void The_same_error_on_every_attempt_is_thrown()
    {
        // Given a model whose forward always fails with that message
        using var model = new Flaky(3, Enumerable.Range(1, 100).ToArray());
        var trainer = new Trainer(new TrainOptions { Epochs = 1, LearningRate = 0.1, Optimizer = "sgd" });

        // When it trains, then the error is not swallowed: it is real after ScalarRace.Attempts tries
        Assert.Throws<ExternalException>(() => trainer.Fit(model, epoch => TestKit.Separable(3, 2, 8, seed: epoch), null, []));
        Assert.Equal(ScalarRace.Attempts, model.Calls);
    }

    [Fact]
    public void Other_errors_are_never_retried()
    {
        Assert.False(ScalarRace.Matches(new ExternalException("shape mismatch")));
        Assert.False(ScalarRace.Matches(new InvalidOperationException("Expected false to be true")));
        Assert.True(ScalarRace.Matches(new ExternalException("Expected false to be true, but got false.")));
    }
}
