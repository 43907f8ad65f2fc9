using System.Globalization;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keras <c>TerminateOnNaN</c>: stops training as soon as the loss becomes NaN or infinite (checked after every
/// step). By default training ends gracefully (the epoch's validation and end hooks still run, Keras-like);
/// with <paramref name="raiseError"/> a <see cref="SharpVisionException"/> is thrown instead.
/// </summary>
/// <param name="raiseError">Throw instead of stopping.</param>
public sealed class TerminateOnNaN(bool raiseError = false) : Callback
{
    /// <summary>Whether this callback stopped training in the last run.</summary>
    public bool Triggered { get; private set; }

    /// <inheritdoc />
    public override void OnTrainBegin() => Triggered = false;

    /// <inheritdoc />
    public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (!logs.TryGetValue(LogNames.Loss, out double loss) || double.IsFinite(loss))
            return;
        string message = $"Epoch {Trainer.CurrentEpoch + 1}, batch {step + 1}: invalid loss " +
            $"({loss.ToString(CultureInfo.InvariantCulture)}), terminating training. " +
            "Try a lower learning rate or check the input data.";
        Triggered = true;
        if (raiseError)
            throw new SharpVisionException(message);
        Trainer.StopTraining = true;
        Trainer.StopReason = message;
    }
}
