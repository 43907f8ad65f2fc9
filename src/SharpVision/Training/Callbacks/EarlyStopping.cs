using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keras 3 <c>EarlyStopping</c>: stops when the monitored metric has not improved (by more than
/// <paramref name="minDelta"/>) for <paramref name="patience"/> epochs. The first monitored value always counts as
/// an improvement; with a <paramref name="baseline"/>, the wait counter only resets when the value also beats the
/// baseline. With <paramref name="restoreBestWeights"/>, a CPU copy of the best epoch's state_dict is kept and loaded
/// back at the end of training (Keras 3 restores at train end whether or not training stopped early).
/// </summary>
/// <param name="monitor">Metric name, e.g. val_loss.</param>
/// <param name="minDelta">Minimum change counted as an improvement (absolute value used).</param>
/// <param name="patience">Epochs without improvement before stopping.</param>
/// <param name="mode">auto = max for names containing "acc", else min.</param>
/// <param name="baseline">Value the metric must beat for the wait counter to reset.</param>
/// <param name="restoreBestWeights">Load the best epoch's weights at the end.</param>
/// <param name="startFromEpoch">Epochs (0-based indices below this) ignored as warm-up.</param>
public sealed class EarlyStopping(
    string monitor = "val_loss",
    double minDelta = 0,
    int patience = 0,
    MonitorMode mode = MonitorMode.Auto,
    double? baseline = null,
    bool restoreBestWeights = false,
    int startFromEpoch = 0) : Callback, IDisposable
{
    private readonly Monitor _monitor = Monitor.Create(monitor, mode, minDelta);
    private Dictionary<string, Tensor>? _bestWeights;
    private IReadOnlyDictionary<string, double>? _pendingState;
    private Dictionary<string, Tensor>? _pendingWeights;

    /// <summary>Epochs counted since the last improvement.</summary>
    public int Wait { get; private set; }

    /// <summary>Best monitored value, or null before the first monitored epoch.</summary>
    public double? Best { get; private set; }

    /// <summary>0-based index of the best epoch.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>0-based index of the epoch that stopped training, or 0 when it did not stop (Keras).</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>Whether training was stopped by this callback.</summary>
    public bool Stopped { get; private set; }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        Wait = 0;
        StoppedEpoch = 0;
        Stopped = false;
        Best = null;
        BestEpoch = 0;
        ReleaseWeights();
        if (_pendingState is { } state)
        {
            Wait = (int)state.GetValueOrDefault("wait");
            Best = state.TryGetValue("best", out var best) ? best : null;
            BestEpoch = (int)state.GetValueOrDefault("best_epoch");
            _bestWeights = _pendingWeights;
            _pendingState = null;
            _pendingWeights = null;
        }
    }

    public override IReadOnlyDictionary<string, double>? GetState()
    {
        var state = new Dictionary<string, double> { ["wait"] = Wait, ["best_epoch"] = BestEpoch };
        if (Best is { } best) state["best"] = best;
        return state;
    }

    public override void SetState(IReadOnlyDictionary<string, double> state) => _pendingState = state;

    /// <summary>
    /// On resume with restoreBestWeights: the weights of the best epoch so far (e.g. read back from the best
    /// checkpoint), taken over by the next <see cref="OnTrainBegin"/> (the callback then owns and disposes them).
    /// </summary>
    public void SetBestWeights(Dictionary<string, Tensor> weights) => _pendingWeights = weights;

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (!_monitor.TryGet(logs, out double current))
        {
            Warn(_monitor.MissingMessage("Early stopping", logs));
            return;
        }
        if (epoch < startFromEpoch)
            return;
        if (restoreBestWeights && _bestWeights is null)
        {
            // Until something improves, the current weights are the best known.
            _bestWeights = CopyWeights();
            BestEpoch = epoch;
        }

        Wait++;
        if (Best is null || _monitor.IsImprovement(current, Best.Value))
        {
            Best = current;
            BestEpoch = epoch;
            if (restoreBestWeights)
            {
                ReleaseWeights();
                _bestWeights = CopyWeights();
            }
            if (baseline is null || _monitor.IsImprovement(current, baseline.Value))
                Wait = 0;
            return;
        }

        if (Wait >= patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Stopped = true;
            Trainer.StopTraining = true;
            Trainer.StopReason = $"Epoch {epoch + 1}: early stopping ({_monitor.Name} did not improve for {Wait} epochs; best {Best:G6} at epoch {BestEpoch + 1}).";
        }
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs)
    {
        if (restoreBestWeights && _bestWeights is not null)
        {
            using (no_grad())
                Trainer.Model.load_state_dict(_bestWeights, strict: true);
            if (Trainer.StopReason is { } reason && Stopped)
                Trainer.StopReason = reason + $" Restored the weights of epoch {BestEpoch + 1}.";
        }
        ReleaseWeights();
    }

    /// <inheritdoc />
    public override void OnTrainAborted(Exception error) => ReleaseWeights();

    /// <summary>Frees the kept weight copy.</summary>
    public void Dispose() => ReleaseWeights();

    // A detached CPU copy, kept across epochs outside any step's dispose scope.
    private Dictionary<string, Tensor> CopyWeights() => StateDicts.CloneToCpu(Trainer.Model);

    private void ReleaseWeights()
    {
        if (_bestWeights is null)
            return;
        foreach (var t in _bestWeights.Values)
            t.Dispose();
        _bestWeights = null;
    }
}
