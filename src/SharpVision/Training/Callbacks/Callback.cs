namespace SharpVision.Training.Callbacks;

/// <summary>
/// Base of everything optional in training (Keras callbacks): every hook is a no-op. Epoch indices given to the
/// hooks are 0-based like Keras (epoch index 0 is printed and stored as "epoch 1"); step indices are 0-based
/// within the epoch. A callback reaches the model, optimizer, learning rate and the <c>StopTraining</c> flag
/// through <see cref="Trainer"/>, and resets its own state in <see cref="OnTrainBegin"/> so it can be reused.
/// </summary>
public abstract class Callback
{
    private Trainer? _trainer;

    /// <summary>The trainer running this callback (set by <see cref="Trainer.Fit"/> or <see cref="SetTrainer"/>).</summary>
    protected Trainer Trainer => _trainer ?? throw new InvalidOperationException(
        $"{GetType().Name} is not attached to a trainer: call SetTrainer first.");

    /// <summary>Attaches the callback to a trainer (done by Fit; tests call it to drive hooks by hand).</summary>
    public void SetTrainer(Trainer trainer) => _trainer = trainer ?? throw new ArgumentNullException(nameof(trainer));

    /// <summary>Before the first epoch; reset state here.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>
    /// The counters this callback keeps between epochs (best value, patience wait, cooldown), so an interrupted
    /// run can be resumed exactly. Null for callbacks without state.
    /// </summary>
    public virtual IReadOnlyDictionary<string, double>? GetState() => null;

    /// <summary>
    /// Restores what <see cref="GetState"/> returned. It takes effect at the next <see cref="OnTrainBegin"/>,
    /// which then starts from this state instead of resetting.
    /// </summary>
    public virtual void SetState(IReadOnlyDictionary<string, double> state) { }

    /// <summary>After the last epoch (also after an early stop).</summary>
    /// <param name="logs">Logs of the last epoch run, or null when none ran.</param>
    public virtual void OnTrainEnd(IReadOnlyDictionary<string, double>? logs) { }

    /// <summary>When <see cref="Trainer.Fit"/> fails with an exception: release files and consoles (no saving).</summary>
    public virtual void OnTrainAborted(Exception error) { }

    /// <summary>
    /// When <see cref="Trainer.Fit"/>'s cancellation token fired: training stopped between two steps, so the model
    /// and optimizer are consistent. Save what should survive here (and name it with
    /// <see cref="TrainingCanceledException.AddSavedFile"/>); <see cref="OnTrainAborted"/> follows.
    /// </summary>
    public virtual void OnTrainInterrupted(TrainingCanceledException interruption) { }

    /// <summary>Before the first step of epoch index <paramref name="epoch"/> (0-based).</summary>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>
    /// After training and validation of epoch index <paramref name="epoch"/> (0-based). <paramref name="logs"/>
    /// holds loss, accuracy, val_loss, val_accuracy, lr, seconds, skipped, ...; a callback may add keys.
    /// </summary>
    public virtual void OnEpochEnd(int epoch, IDictionary<string, double> logs) { }

    /// <summary>Before training step <paramref name="step"/> (0-based within the epoch).</summary>
    public virtual void OnBatchBegin(int step) { }

    /// <summary>
    /// After training step <paramref name="step"/>: logs hold the epoch's running means so far
    /// (loss, accuracy, ...), <c>images</c> seen so far and <c>skipped</c> so far.
    /// </summary>
    public virtual void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>Reports a non-fatal problem (monitored metric missing, ...) through <see cref="Trainer.Warning"/>.</summary>
    protected void Warn(string message) => _trainer?.RaiseWarning(message);
}
