using SharpVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Data;

public class BatchLoopTests
{
    private static Batch Rows(int rows, params ImageDecodeException[] skipped) =>
        new(zeros(rows, 1, 2, 2), zeros(rows, dtype: ScalarType.Int64), skipped);

    [Fact]
    public void Evaluation_steps_run_in_eval_mode_without_gradients_and_the_mode_comes_back()
    {
        // Given a model in train mode and a pass with an empty batch (its only file unreadable)
        var model = nn.Linear(4, 2);
        model.train();
        var bad = new ImageDecodeException("bad.png", "not an image");
        var source = new List<Batch> { Rows(3), Rows(0, bad), Rows(2) };
        var seen = new List<(bool Training, bool Grad, long Rows)>();

        // When an evaluation loop steps over it
        using (var loop = BatchLoop.Evaluation(model, null))
        {
            foreach (var batch in loop.Batches(source))
                seen.Add(loop.Step(batch, (x, _) => (model.training, is_grad_enabled(), x.shape[0])));

            // Then the empty batch is passed over but its file counted, and every step ran in eval mode under no_grad
            Assert.Equal([(false, false, 3L), (false, false, 2L)], seen);
            Assert.Equal([bad], loop.Skipped);
            Assert.Equal(5, loop.Samples);
        }
        Assert.True(model.training);
        Assert.True(is_grad_enabled());
        // And every batch was disposed
        Assert.All(source, b => Assert.True(b.Images.IsInvalid));
    }

    [Fact]
    public void Step_frees_what_it_makes_and_cancellation_stops_before_the_next_batch_with_its_message()
    {
        // Given a token that fires during the second step
        using var cancel = new CancellationTokenSource();
        var source = Enumerable.Range(0, 4).Select(_ => Rows(2)).ToList();
        using var loop = BatchLoop.Training(null, cancel.Token);
        loop.CanceledMessage = () => $"stopped after {loop.Samples} images";
        var made = new List<Tensor>();

        // When the loop runs
        var stop = Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var batch in loop.Batches(source))
                loop.Step(batch, (x, y) =>
                {
                    made.Add(x * 2);
                    if (made.Count == 2) cancel.Cancel();
                });
        });

        // Then two steps ran, their tensors are freed, and the message says how far it got
        Assert.Equal(2, made.Count);
        Assert.All(made, t => Assert.True(t.IsInvalid));
        Assert.Equal("stopped after 4 images", stop.Message);
        Assert.True(source[2].Images.IsInvalid); // the batch that was not stepped is disposed too
        foreach (var b in source) b.Dispose();
    }
}
