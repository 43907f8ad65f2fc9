using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// The one loop that runs a model over batches: training steps, validation, inference, feature caching and export,
/// the learning-rate finder. It owns what every such loop must get right:
/// <list type="bullet">
/// <item><see cref="Batches"/> disposes each batch after its body, counts skipped files (<see cref="Skipped"/>), passes
/// over batches left empty by unreadable files, and checks cancellation before each batch (never inside a step);</item>
/// <item><see cref="Step{T}"/> opens one <c>torch.NewDisposeScope()</c> per batch, runs under <c>torch.no_grad()</c> for
/// an evaluation or inference loop, and moves images and labels to <see cref="Device"/>.</item>
/// </list>
/// An evaluation loop (<see cref="Evaluation"/>) also puts the model in eval mode and restores its mode on
/// <see cref="Dispose"/>. Callers keep their own foreach, so hooks that must run outside a step's scope
/// (callbacks, progress) sit between the two calls:
/// <code>
/// using var loop = BatchLoop.Evaluation(model, device, cancellationToken);
/// foreach (var batch in loop.Batches(loader.Epoch(0)))
///     loss += loop.Step(batch, (x, y) => Loss(model.call(x), y).item&lt;float&gt;());
/// </code>
/// Scopes are per thread, so enumerate and step on one thread.
/// </summary>
public sealed class BatchLoop : IDisposable
{
    private readonly nn.Module? _evaluated;
    private readonly bool _noGrad;
    private readonly bool _wasTraining;
    private readonly CancellationToken _cancellationToken;
    private readonly List<ImageDecodeException> _skipped = [];

    private BatchLoop(Device? device, nn.Module? evaluated, bool noGrad, CancellationToken cancellationToken)
    {
        Device = device ?? CPU;
        _evaluated = evaluated;
        _noGrad = noGrad;
        _cancellationToken = cancellationToken;
        if (evaluated is not null)
        {
            _wasTraining = evaluated.training;
            evaluated.eval();
        }
    }

    /// <summary>A loop whose steps compute gradients (the caller sets the model's train mode).</summary>
    public static BatchLoop Training(Device? device, CancellationToken cancellationToken = default) =>
        new(device, null, noGrad: false, cancellationToken);

    /// <summary>
    /// A loop of eval-mode steps without gradients over <paramref name="model"/>: dropout off, BatchNorm on its running
    /// statistics. The model's previous mode comes back on <see cref="Dispose"/>.
    /// </summary>
    public static BatchLoop Evaluation(nn.Module model, Device? device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(device, model, noGrad: true, cancellationToken);
    }

    /// <summary>
    /// A loop of steps without gradients for a network that is not a TorchSharp module (ONNX Runtime fed with the
    /// loader's batches): the steps only read the batch tensors.
    /// </summary>
    public static BatchLoop Inference(Device? device, CancellationToken cancellationToken = default) =>
        new(device, null, noGrad: true, cancellationToken);

    /// <summary>Where the steps run (CPU when none was given).</summary>
    public Device Device { get; }

    /// <summary>
    /// The message of the <see cref="OperationCanceledException"/> thrown when the token fires (how far the loop got),
    /// or null for the token's own.
    /// </summary>
    public Func<string>? CanceledMessage { get; set; }

    /// <summary>The unreadable files of every batch enumerated so far, empty batches included.</summary>
    public IReadOnlyList<ImageDecodeException> Skipped => _skipped;

    /// <summary>Samples of the batches whose body has completed.</summary>
    public long Samples { get; private set; }

    /// <summary>
    /// The non-empty batches of <paramref name="source"/>, each disposed once the body is done with it (or left);
    /// throws <see cref="OperationCanceledException"/> before handing out a batch once the token has fired.
    /// </summary>
    public IEnumerable<Batch> Batches(IEnumerable<Batch> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        foreach (var batch in source)
        {
            using (batch)
            {
                _skipped.AddRange(batch.Skipped);
                if (batch.Size == 0) continue;
                // Between steps only: the previous step is done, this one has not begun.
                if (_cancellationToken.IsCancellationRequested)
                    throw CanceledMessage is null
                        ? new OperationCanceledException(_cancellationToken)
                        : new OperationCanceledException(CanceledMessage(), _cancellationToken);
                yield return batch;
                Samples += batch.Size;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> on the batch's images [B, C, H, W] and labels moved to <see cref="Device"/>, inside a
    /// dispose scope of its own (and no_grad for an evaluation loop). Every tensor made in the step is freed when it
    /// returns, so return plain values (or tensors moved out with <c>MoveToOuterDisposeScope()</c>).
    /// </summary>
    public T Step<T>(Batch batch, Func<Tensor, Tensor, T> step)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(step);
        using var scope = NewDisposeScope();
        using var noGrad = _noGrad ? no_grad() : null;
        var images = batch.Images.to(Device); // [B, C, H, W] (features [B, F] for a cached head)
        var labels = batch.Labels.to(Device); // [B] classes, [B, M, 5] boxes
        return step(images, labels);
    }

    /// <summary><see cref="Step{T}"/> for a step that only has effects (an optimizer step, running sums).</summary>
    public void Step(Batch batch, Action<Tensor, Tensor> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Step(batch, (images, labels) =>
        {
            step(images, labels);
            return true;
        });
    }

    /// <summary>Puts an evaluated model back in the mode it had.</summary>
    public void Dispose() => _evaluated?.train(_wasTraining);
}
