using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// The Keras fit loop, kept small: per epoch, train steps then validation, then callbacks. Everything optional
/// (checkpoints, early stopping, schedules, CSV, progress) is a <see cref="Callback"/>. Callbacks reach the model,
/// the optimizer, the learning rate and <see cref="StopTraining"/> through this object.
/// </summary>
/// <remarks>
/// Epoch indices are 0-based in callback hooks (Keras), 1-based in <see cref="History.Epochs"/>, files and
/// messages. Models return logits [B, K]: K = 1 trains with sigmoid + binary cross-entropy, K &gt;= 2 with softmax +
/// categorical cross-entropy on integer labels.
/// <para>
/// Cancellation (<see cref="Fit"/>'s token) is checked between steps, never inside an optimizer step or a
/// callback: the loop stops within one step, calls <see cref="Callback.OnTrainInterrupted"/> (a
/// <see cref="ModelCheckpoint"/> with <see cref="ModelCheckpoint.InterruptedPath"/> saves the current weights
/// there), then <see cref="Callback.OnTrainAborted"/>, and throws <see cref="TrainingCanceledException"/>. The
/// epoch that was stopped leaves no row and no end-of-epoch checkpoint: completed epochs' files stay as they were.
/// </para>
/// </remarks>
public sealed class Trainer(TrainOptions options)
{
    private nn.Module<Tensor, Tensor>? _model;
    private optim.Optimizer? _optimizer;

    /// <summary>The settings of this trainer.</summary>
    public TrainOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Set by a callback to end training after the current step/epoch (Keras <c>stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>A one-line explanation set by the callback that stopped training, shown to the user.</summary>
    public string? StopReason { get; set; }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model => _model ?? throw new InvalidOperationException("No model attached to the trainer.");

    /// <summary>The optimizer in use.</summary>
    public optim.Optimizer Optimizer => _optimizer ?? throw new InvalidOperationException("No optimizer attached to the trainer.");

    /// <summary>Learning rate of the optimizer (all parameter groups).</summary>
    public double LearningRate
    {
        get => OptimizerFactory.GetLearningRate(Optimizer);
        set => OptimizerFactory.SetLearningRate(Optimizer, value);
    }

    /// <summary>0-based index of the epoch running (or last run).</summary>
    public int CurrentEpoch { get; private set; }

    /// <summary>
    /// Epochs whose training and validation passes have finished, counting a resumed run's earlier ones:
    /// <see cref="TrainOptions.InitialEpoch"/> at the start, epoch index + 1 from just before its
    /// <see cref="Callback.OnEpochEnd"/> (so an end-of-epoch checkpoint counts its own epoch).
    /// </summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>
    /// While <see cref="Callback.OnTrainInterrupted"/> hooks run after a cancellation: where training stopped
    /// (checkpoints record it). Null otherwise.
    /// </summary>
    public TrainingCanceledException? Interruption { get; private set; }

    /// <summary>Training steps done so far in the running epoch.</summary>
    private int _stepsInEpoch;

    /// <summary>Batches per epoch: <see cref="TrainOptions.StepsPerEpoch"/>, else what the previous epoch had.</summary>
    public int? StepsPerEpoch { get; private set; }

    /// <summary>Non-fatal problems reported by callbacks (a monitored metric missing, ...).</summary>
    public event Action<string>? Warning;

    internal void RaiseWarning(string message) => Warning?.Invoke(message);

    /// <summary>
    /// Attaches a model and optimizer without training, so callbacks can be driven by hand (tests, tools).
    /// </summary>
    public void Attach(nn.Module<Tensor, Tensor> model, optim.Optimizer? optimizer)
    {
        _model = model;
        _optimizer = optimizer;
    }

    /// <summary>
    /// Trains <paramref name="model"/> for epochs <see cref="TrainOptions.InitialEpoch"/> .. Epochs - 1.
    /// </summary>
    /// <param name="model">Returns logits [B, K]; moved to <see cref="TrainOptions.Device"/>.</param>
    /// <param name="train">Training batches of one epoch, given its 0-based index (reshuffle per epoch). Each batch is disposed after use.</param>
    /// <param name="validation">Validation batches (one pass per epoch), or null for no validation.</param>
    /// <param name="callbacks">Called in order at each hook.</param>
    /// <param name="optimizer">
    /// An optimizer the caller owns (e.g. parameter groups with different rates); when null one is built from
    /// <see cref="Options"/> over the parameters that require gradients, and disposed at the end.
    /// </param>
    /// <param name="cancellationToken">
    /// Stops training between two steps (see the remarks): interruption hooks run, then
    /// <see cref="TrainingCanceledException"/> is thrown.
    /// </param>
    /// <returns>Per-epoch logs.</returns>
    /// <exception cref="TrainingCanceledException"><paramref name="cancellationToken"/> fired before training ended.</exception>
    public History Fit(nn.Module<Tensor, Tensor> model, Func<int, IEnumerable<Batch>> train,
        Func<IEnumerable<Batch>>? validation, IReadOnlyList<Callback>? callbacks = null, optim.Optimizer? optimizer = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        callbacks ??= [];
        if (Options.Epochs < 1)
            throw new InvalidOptionException("TrainOptions.Epochs", "an integer >= 1", Options.Epochs.ToString());
        if (Options.InitialEpoch < 0 || Options.InitialEpoch >= Options.Epochs)
            throw new InvalidOptionException("TrainOptions.InitialEpoch", $"an integer in [0, {Options.Epochs - 1}]", Options.InitialEpoch.ToString());

        // Without the build-time TorchSharp rewrite a long loop is where a freed Scalar shows up: say so once.
        TorchSharpPatch.WarnOnceIfKeepAliveMissing(RaiseWarning);
        var device = Options.Device ?? CPU;
        if (Options.Precision != Precision.Fp32)
        {
            MixedPrecision.Require(Options.Precision, "TrainOptions.Precision");
            if (device.type != DeviceType.CPU)
                throw new InvalidOptionException("TrainOptions.Precision", $"fp32 on {device} (bf16 is CPU mixed precision)", MixedPrecision.Name(Options.Precision));
        }
        model.to(device);
        bool ownsOptimizer = optimizer is null;
        optimizer ??= OptimizerFactory.Create(Options.Optimizer, model.parameters().Where(p => p.requires_grad),
            Options.LearningRate, Options.Momentum, Options.Nesterov, Options.WeightDecay);
        Attach(model, optimizer);
        StopTraining = false;
        StopReason = null;
        StepsPerEpoch = Options.StepsPerEpoch;
        EpochsCompleted = Options.InitialEpoch;
        CurrentEpoch = Options.InitialEpoch;
        Interruption = null;
        _stepsInEpoch = 0;

        var history = new History();
        Tensor? classWeights = null;
        try
        {
            if (Options.ClassWeights is { } cw)
            {
                classWeights = tensor(cw).to(device);
                classWeights.DetachFromDisposeScope();
            }
            var task = Options.Task ?? new ClassificationTask(Options.LabelSmoothing, classWeights, Options.TopK);

            foreach (var cb in callbacks)
                cb.SetTrainer(this);
            foreach (var cb in callbacks)
                cb.OnTrainBegin();

            Dictionary<string, double>? logs = null;
            for (int epoch = Options.InitialEpoch; epoch < Options.Epochs; epoch++)
            {
                CurrentEpoch = epoch;
                _stepsInEpoch = 0;
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var cb in callbacks)
                    cb.OnEpochBegin(epoch);

                var clock = Stopwatch.StartNew();
                logs = TrainEpoch(model, optimizer, train(epoch), task, device, callbacks, epoch, cancellationToken, out int skipped);
                if (validation is not null)
                {
                    var val = Evaluate(model, validation(), task, device, cancellationToken);
                    skipped += (int)val[LogNames.Skipped];
                    foreach (var (key, value) in val)
                        if (key != LogNames.Skipped)
                            logs[LogNames.ValPrefix + key] = value;
                }
                logs[LogNames.LearningRate] = OptimizerFactory.GetLearningRate(optimizer);
                logs[LogNames.Seconds] = clock.Elapsed.TotalSeconds;
                logs[LogNames.Skipped] = skipped;

                EpochsCompleted = epoch + 1;
                foreach (var cb in callbacks)
                    cb.OnEpochEnd(epoch, logs);
                history.Add(epoch + 1, logs);
                if (StopTraining)
                    break;
            }

            foreach (var cb in callbacks)
                cb.OnTrainEnd(logs);
            // After OnTrainEnd: EarlyStopping adds "restored the weights of epoch N" there.
            history.StopReason = StopReason;
            return history;
        }
        catch (OperationCanceledException stop) when (cancellationToken.IsCancellationRequested)
        {
            var interruption = new TrainingCanceledException(EpochsCompleted, CurrentEpoch, _stepsInEpoch, cancellationToken, stop);
            Interruption = interruption;
            try
            {
                foreach (var cb in callbacks)
                {
                    try { cb.OnTrainInterrupted(interruption); }
                    catch (Exception e) { RaiseWarning($"{cb.GetType().Name} could not save on interruption: {e.Message}"); }
                }
            }
            finally
            {
                Interruption = null;
                Abort(callbacks, interruption);
            }
            throw interruption;
        }
        catch (Exception error)
        {
            Abort(callbacks, error);
            throw;
        }
        finally
        {
            classWeights?.Dispose();
            if (ownsOptimizer)
            {
                optimizer.Dispose();
                _optimizer = null;
            }
        }
    }

    private static void Abort(IReadOnlyList<Callback> callbacks, Exception error)
    {
        foreach (var cb in callbacks)
        {
            try { cb.OnTrainAborted(error); }
            catch (Exception) { /* the training error is the one to report */ }
        }
    }

    private Dictionary<string, double> TrainEpoch(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer,
        IEnumerable<Batch> batches, ITrainingTask task, Device device, IReadOnlyList<Callback> callbacks, int epoch,
        CancellationToken cancellationToken, out int skipped)
    {
        model.train();
        // Frozen BatchNorm layers normalise with their running statistics and leave them unchanged (Keras).
        Models.Freezing.KeepFrozenBatchNormInEval(model);
        var sums = task.CreateMetrics(validation: false);
        using var loop = BatchLoop.Training(device, cancellationToken);
        int step = 0;
        foreach (var batch in loop.Batches(batches))
        {
            foreach (var cb in callbacks)
                cb.OnBatchBegin(step);
            loop.Step(batch, (x, y) =>                                          // x [B, C, H, W], y [B]
            {
                optimizer.zero_grad();
                (x, y) = task.PrepareBatch(x, y);
                var output = MixedPrecision.Forward(model, x, Options.Precision); // [B, K] for classification, float32
                var loss = task.ComputeLoss(output, y, training: true);
                loss.Total.backward();
                optimizer.step();
                sums.Add(loss, output, y);
            });

            // Outside the step's scope: callbacks may keep what they make.
            var batchLogs = sums.ToLogs();
            batchLogs[LogNames.Images] = sums.Samples;
            batchLogs[LogNames.Skipped] = loop.Skipped.Count;
            foreach (var cb in callbacks)
                cb.OnBatchEnd(step, batchLogs);
            step++;
            _stepsInEpoch = step;
            if (StopTraining)
                break;
        }
        skipped = loop.Skipped.Count;
        if (sums.Samples == 0)
            throw new DatasetException($"Epoch {epoch + 1}: the training data produced no batch (empty dataset, or every image unreadable).");
        if (!StopTraining)
            StepsPerEpoch = step;
        return sums.ToLogs();
    }

    /// <summary>
    /// One pass over <paramref name="batches"/> in eval mode without gradients: loss (label smoothing applied, no
    /// class weights, like Keras), accuracy, top-k accuracy when <paramref name="topK"/> &gt; 1, and
    /// <c>skipped</c>. Names carry no <c>val_</c> prefix. Each batch is disposed.
    /// </summary>
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, IEnumerable<Batch> batches,
        Device? device = null, double labelSmoothing = 0, int topK = 0, CancellationToken cancellationToken = default) =>
        Evaluate(model, batches, new ClassificationTask(labelSmoothing, null, topK), device, cancellationToken);

    /// <summary>
    /// One pass over <paramref name="batches"/> in eval mode without gradients, with <paramref name="task"/>'s
    /// validation loss and metrics, plus <c>skipped</c>. Names carry no <c>val_</c> prefix. Each batch is disposed.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (checked between batches).</exception>
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, IEnumerable<Batch> batches,
        ITrainingTask task, Device? device = null, CancellationToken cancellationToken = default)
    {
        var sums = task.CreateMetrics(validation: true);
        int skipped;
        using (var loop = BatchLoop.Evaluation(model, device, cancellationToken))
        {
            foreach (var batch in loop.Batches(batches))
                loop.Step(batch, (x, y) =>                                      // x [B, C, H, W], y [B]
                {
                    var output = model.call(x);                                 // [B, K] for classification
                    sums.Add(task.ComputeLoss(output, y, training: false), output, y);
                });
            skipped = loop.Skipped.Count;
        }
        var logs = sums.ToLogs();
        logs[LogNames.Skipped] = skipped;
        return logs;
    }
}
