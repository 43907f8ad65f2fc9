using SharpVision.Data;
using SharpVision.Runs;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Api;

/// <summary>
/// One stage of a run as both recipes (classification, detection) run it, so a stage means the same thing whatever
/// the task: the callbacks in one order, one resumable checkpoint, one resume rule. What differs per recipe comes in
/// as data: the module the trainer fits (a frozen-feature head, or the whole model), the batches, the optimizer,
/// the learning-rate schedule and any extra columns or loggers.
/// </summary>
internal sealed class StageRunner
{
    /// <summary>The per-stage parts a recipe chooses.</summary>
    internal sealed record Stage
    {
        /// <summary>The stage (number 0 for a plain run, 1 frozen, 2 fine-tuning) and its first epoch (later than its start on resume).</summary>
        public required TrainStage Plan { get; init; }
        public required int InitialEpoch { get; init; }
        /// <summary>The trainer's settings for this stage (epochs up to the stage's end, rate, task, device).</summary>
        public required TrainOptions Options { get; init; }
        public required optim.Optimizer Optimizer { get; init; }
        /// <summary>What the trainer fits: the model, or a head on cached features.</summary>
        public required nn.Module<Tensor, Tensor> Trained { get; init; }
        public required Func<int, IEnumerable<Batch>> TrainBatches { get; init; }
        public Func<IEnumerable<Batch>>? ValBatches { get; init; }
        /// <summary>Callbacks whose counters the checkpoint keeps, beside the best checkpoint (early stopping, reduce-on-plateau).</summary>
        public IReadOnlyDictionary<string, Callback> Named { get; init; } = new Dictionary<string, Callback>();
        /// <summary>Run before the CSV logger (columns it must see).</summary>
        public IReadOnlyList<Callback> BeforeLog { get; init; } = [];
        /// <summary>Run after the named callbacks and before the curves (schedules, step loggers).</summary>
        public IReadOnlyList<Callback> AfterNamed { get; init; } = [];
        /// <summary>Fixed results.csv columns (detection's), or null for the first epoch's keys.</summary>
        public IReadOnlyList<string>? Columns { get; init; }
        /// <summary>Append to results.csv (a resumed run, or a later stage).</summary>
        public bool Append { get; init; }
        /// <summary>
        /// The checkpoint of the run being resumed, for the first stage run after it (else null). When its last epoch
        /// lies inside this stage, the optimizer and every counter continue from it; when this stage starts afresh, only
        /// the best checkpoint's record (and the random state) carry over.
        /// </summary>
        public TrainingState? Resume { get; init; }
        /// <summary>Called on a same-stage resume after the optimizer is restored and before the counters are (early stopping's best weights).</summary>
        public Action<TrainingState>? OnResume { get; init; }
    }

    private readonly RunFolder _run;
    private readonly nn.Module _model;
    private readonly ModelConfig _config;
    private readonly TrainEvents _events;
    private readonly RunMonitor _monitor;

    /// <summary>
    /// A runner for the stages of one run: <paramref name="best"/> is shared by every stage, so best.svmodel only improves;
    /// one status.json (<see cref="RunMonitor"/>) covers every stage of the run's <paramref name="epochs"/> epochs.
    /// </summary>
    public StageRunner(RunFolder run, nn.Module model, ModelConfig config, ModelCheckpoint best, TrainEvents events, string task, int epochs)
    {
        _run = run;
        _model = model;
        _config = config;
        Best = best;
        _events = events;
        _monitor = new RunMonitor(run.Path, task, epochs);
    }

    /// <summary>weights/best.svmodel, by the monitored metric over every stage.</summary>
    public ModelCheckpoint Best { get; }

    /// <summary>
    /// Runs one stage: results.csv, NaN stop, best checkpoint, the recipe's callbacks, curves.png, and last, the
    /// resumable checkpoint (taken after every other callback has updated its counters and the rate), status.json and
    /// system.csv, then the caller's progress reports.
    /// </summary>
    public History Run(Stage s, CancellationToken cancellationToken)
    {
        var trainer = new Trainer(s.Options);
        trainer.Warning += w => _events.Log($"warning: {w}");
        var named = new Dictionary<string, Callback> { ["best_checkpoint"] = Best };
        foreach (var (key, callback) in s.Named) named[key] = callback;
        int? stageNumber = s.Plan.Number == 0 ? null : s.Plan.Number;

        var callbacks = new List<Callback>(s.BeforeLog)
        {
            new CsvLogger(_run.ResultsCsv, append: s.Append, columns: s.Columns),
            new TerminateOnNaN(),
        };
        callbacks.AddRange(named.Values);
        callbacks.AddRange(s.AfterNamed);
        callbacks.Add(new CurvesCallback(_run.ResultsCsv, _run.CurvesPng));
        callbacks.Add(new ModelCheckpoint(_run.LastModel, (path, _) =>
            ModelFile.Save(path, _model, _config, RunResume.CheckpointEntries(trainer, named, s.Optimizer, stageNumber)))
        { InterruptedPath = _run.InterruptedModel });
        // After the checkpoints, so a watcher told an epoch is done finds its files written.
        callbacks.Add(_monitor);
        callbacks.AddRange(_events.CallbacksWithReports());

        if (s.Resume is { } state)
        {
            bool sameStage = s.InitialEpoch > s.Plan.Start && (state.Phase ?? stageNumber) == stageNumber;
            if (sameStage)
            {
                RunResume.RestoreOptimizer(_run, s.Optimizer, state);
                s.OnResume?.Invoke(state);
            }
            // Last: building networks drew from libtorch's generator; the restored state must be what the next
            // epoch's dropout and augmentation see, as in the uninterrupted run.
            state.Restore(sameStage ? named : new Dictionary<string, Callback> { ["best_checkpoint"] = Best });
        }
        var history = trainer.Fit(s.Trained, s.TrainBatches, s.ValBatches, callbacks, s.Optimizer, cancellationToken);
        // The next stage starts from this stage's best, so best.svmodel only improves.
        Best.Best = Best.Best;
        return history;
    }
}
