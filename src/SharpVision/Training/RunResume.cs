using System.Globalization;
using SharpVision.Runs;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using TorchSharp;

namespace SharpVision.Training;

/// <summary>
/// What the classification and detection recipes share to make a run resumable: the extra entries of the last
/// checkpoint (training state + optimizer state), reading them back with clear refusals, and trimming logs to the
/// epochs the checkpoint holds.
/// </summary>
public static class RunResume
{
    /// <summary>
    /// The training state stored in <paramref name="run"/>'s last checkpoint; refuses (naming <paramref name="option"/>
    /// and the run) when the run never finished an epoch or its checkpoint holds no state.
    /// </summary>
    public static TrainingState ReadState(RunFolder run, string option = "RunResume.Resume")
    {
        if (!File.Exists(run.LastModel))
            throw new SharpVisionException($"{option} {run.Path}: nothing to resume, {run.LastModel} does not exist (the run never finished an epoch).");
        var stateJson = ModelFile.ReadEntry(run.LastModel, TrainingState.Entry)
            ?? throw new SharpVisionException($"{option} {run.Path}: {run.LastModel} holds no training state (written before resumable checkpoints).");
        return TrainingState.FromJson(stateJson, run.LastModel);
    }

    /// <summary>Whether the run in <paramref name="state"/> already ended (stopped early, or all <paramref name="epochs"/> done).</summary>
    public static bool IsFinished(TrainingState state, int epochs) => state.StopTraining || state.EpochsCompleted >= epochs;

    /// <summary>The line printed for a finished run.</summary>
    public static string FinishedMessage(string runDir, TrainingState state, int epochs) =>
        $"{runDir} already finished ({state.EpochsCompleted} of {epochs} epochs{(state.StopReason is null ? "" : "; " + state.StopReason)}). Nothing to resume.";

    /// <summary>
    /// The entries saved beside the weights in the last checkpoint: the trainer's state with the
    /// <paramref name="named"/> callbacks' counters (and <paramref name="phase"/>), and the optimizer's state.
    /// </summary>
    public static Dictionary<string, byte[]> CheckpointEntries(Trainer trainer, IReadOnlyDictionary<string, Callback> named,
        torch.optim.Optimizer optimizer, int? phase) => new()
    {
        [TrainingState.Entry] = (TrainingState.Capture(trainer, named) with { Phase = phase }).ToJson(),
        [TrainingState.OptimizerEntry] = TrainingState.SaveOptimizer(optimizer),
    };

    /// <summary>Loads the last checkpoint's optimizer state into <paramref name="optimizer"/> and sets the saved rate.</summary>
    public static void RestoreOptimizer(RunFolder run, torch.optim.Optimizer optimizer, TrainingState state)
    {
        var optimizerState = ModelFile.ReadEntry(run.LastModel, TrainingState.OptimizerEntry)
            ?? throw new SharpVisionException($"RunResume.Resume {run.Path}: {run.LastModel} holds no optimizer state.");
        TrainingState.LoadOptimizer(optimizer, optimizerState);
        OptimizerFactory.SetLearningRate(optimizer, state.LearningRate);
    }

    /// <summary>
    /// Keeps the header and the rows of epochs 1..<paramref name="epochs"/>: a run killed after logging an epoch but
    /// before its checkpoint repeats that epoch, which must then appear once.
    /// </summary>
    public static void TruncateRows(string csv, int epochs)
    {
        if (!File.Exists(csv)) return;
        var lines = File.ReadAllLines(csv);
        if (lines.Length == 0) return;
        var kept = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            int comma = line.IndexOf(',');
            if (comma > 0 && int.TryParse(line.AsSpan(0, comma), NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch) && epoch <= epochs)
                kept.Add(line);
        }
        AtomicFile.WriteAllText(csv, string.Join('\n', kept) + "\n");
    }
}
