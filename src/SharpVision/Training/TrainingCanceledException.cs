namespace SharpVision.Training;

/// <summary>
/// Thrown by <see cref="Trainer.Fit"/> when its <see cref="CancellationToken"/> fires (Keras stops <c>fit</c> on
/// KeyboardInterrupt). Training stopped between two steps, never inside an optimizer step or a checkpoint write:
/// every completed epoch's files are whole, and the callbacks have saved what they save on an interruption
/// (<see cref="SavedFiles"/>, e.g. <c>weights/interrupted.svmodel</c>).
/// </summary>
public sealed class TrainingCanceledException : OperationCanceledException
{
    private readonly List<string> _saved = [];

    /// <summary>Creates the exception for a stop in epoch index <paramref name="epoch"/> after <paramref name="steps"/> steps.</summary>
    public TrainingCanceledException(int epochsCompleted, int epoch, int steps, CancellationToken token, Exception? inner = null)
        : base($"Training was cancelled in epoch {epoch + 1} after {steps} step(s); {epochsCompleted} epoch(s) are complete.", inner, token)
    {
        EpochsCompleted = epochsCompleted;
        Epoch = epoch;
        Steps = steps;
    }

    /// <summary>Epochs whose training, validation and end-of-epoch callbacks finished (this run and the ones it resumed).</summary>
    public int EpochsCompleted { get; }

    /// <summary>0-based index of the epoch that was stopped (1-based in messages and files).</summary>
    public int Epoch { get; }

    /// <summary>Training steps of that epoch done before the stop (all of them when it stopped in validation).</summary>
    public int Steps { get; }

    /// <summary>Files the callbacks wrote because of the interruption, in the order they were written.</summary>
    public IReadOnlyList<string> SavedFiles => _saved;

    /// <summary>Called by a callback in <see cref="Callbacks.Callback.OnTrainInterrupted"/> for each file it wrote.</summary>
    public void AddSavedFile(string path) => _saved.Add(path);
}
