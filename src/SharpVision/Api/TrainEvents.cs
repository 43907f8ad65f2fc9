using SharpVision.Training.Callbacks;

namespace SharpVision.Api;

/// <summary>One finished epoch: its 0-based index, the run's epoch count and its logs (<c>loss</c>, <c>val_loss</c>, <c>lr</c>, ...).</summary>
public sealed record EpochProgress(int Epoch, int Epochs, IReadOnlyDictionary<string, double> Logs);

/// <summary>One finished training step of an epoch: 0-based step, steps per epoch (null when unknown) and the running logs.</summary>
public sealed record StepProgress(int Epoch, int Step, int? Steps, IReadOnlyDictionary<string, double> Logs);

/// <summary>
/// How a training run talks to its caller. Everything is optional: the run writes its folder either way. The CLI
/// passes its console progress bar as a <see cref="Callbacks"/> entry and prints <see cref="Message"/>'s lines.
/// </summary>
public sealed record TrainEvents
{
    /// <summary>The run's log lines (data summary, model, run folder, phases, warnings), as <c>sharpvision train</c> prints them.</summary>
    public Action<string>? Message { get; init; }
    /// <summary>Reported after every epoch with its logs (after the run folder's files are written).</summary>
    public IProgress<EpochProgress>? Epochs { get; init; }
    /// <summary>Reported after every training step.</summary>
    public IProgress<StepProgress>? Steps { get; init; }
    /// <summary>Extra Keras-style callbacks, run after the standard ones (CSV logger, checkpoints, curves) in every stage.</summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];

    /// <summary>Nothing reported.</summary>
    public static TrainEvents None { get; } = new();

    internal void Log(string line) => Message?.Invoke(line);

    /// <summary>The caller's callbacks plus one that reports <see cref="Epochs"/> and <see cref="Steps"/>.</summary>
    internal IEnumerable<Callback> CallbacksWithReports()
    {
        if (Epochs is not null || Steps is not null) yield return new Reporter(this);
        foreach (var callback in Callbacks) yield return callback;
    }

    private sealed class Reporter(TrainEvents events) : Callback
    {
        private int _epoch;

        public override void OnEpochBegin(int epoch) => _epoch = epoch;

        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs) =>
            events.Steps?.Report(new StepProgress(_epoch, step, Trainer.StepsPerEpoch, new Dictionary<string, double>(logs)));

        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) =>
            events.Epochs?.Report(new EpochProgress(epoch, Trainer.Options.Epochs, new Dictionary<string, double>(logs)));
    }
}
