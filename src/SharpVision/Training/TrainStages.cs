namespace SharpVision.Training;

/// <summary>
/// One stage of a training run: epochs [<see cref="Start"/>, <see cref="End"/>) with a 1-based <see cref="Number"/>
/// (0 for a plain run of one stage) and whether the backbone is frozen.
/// </summary>
public sealed record TrainStage(int Number, int Start, int End, bool FrozenBackbone)
{
    /// <summary>Epochs in this stage.</summary>
    public int Epochs => End - Start;
}

/// <summary>
/// The fine-tune loop both recipes (classification and detection) run: a plain run is one stage; fine-tuning is
/// stage 1 (backbone frozen, the head trains at the base rate) then stage 2 (unfrozen, at the recipe's lower rate).
/// Stages already done (on resume) are skipped, a stage starts where the run left off, histories are merged and a
/// stop (early stopping, NaN) ends the run.
/// </summary>
public static class TrainStages
{
    /// <summary>The stages of a run of <paramref name="epochs"/> epochs, or of <paramref name="fineTune"/> (E1 frozen, E2 unfrozen).</summary>
    public static IReadOnlyList<TrainStage> Plan((int Frozen, int Unfrozen)? fineTune, int epochs) =>
        fineTune is { } ft
            ? [new TrainStage(1, 0, ft.Frozen, FrozenBackbone: true), new TrainStage(2, ft.Frozen, ft.Frozen + ft.Unfrozen, FrozenBackbone: false)]
            : [new TrainStage(0, 0, epochs, FrozenBackbone: false)];

    /// <summary>
    /// Runs every stage not finished after <paramref name="done"/> epochs: <paramref name="runStage"/> gets the stage and
    /// its first epoch (later than the stage's start when resuming inside it) and returns its history.
    /// </summary>
    public static History Run(IReadOnlyList<TrainStage> stages, int done, Func<TrainStage, int, History> runStage)
    {
        var history = new History();
        foreach (var stage in stages)
        {
            if (stage.Epochs == 0 || done >= stage.End) continue;
            var h = runStage(stage, Math.Max(done, stage.Start));
            for (int i = 0; i < h.Count; i++) history.Add(h.Epochs[i], h.Logs[i]);
            history.StopReason = h.StopReason;
            done = stage.End;
            if (h.StopReason is not null) break;
        }
        return history;
    }
}
