namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keras <c>ReduceLROnPlateau</c>: after <paramref name="patience"/> epochs without improvement (better than the best
/// by more than <paramref name="minDelta"/>), sets lr = max(lr * <paramref name="factor"/>, <paramref name="minLr"/>) if
/// lr &gt; minLr, then waits <paramref name="cooldown"/> epochs (during which the wait counter stays 0) before counting
/// again.
/// </summary>
/// <param name="monitor">Metric name.</param>
/// <param name="factor">Multiplier in (0, 1).</param>
/// <param name="patience">Epochs without improvement before a reduction.</param>
/// <param name="mode">auto = max for names containing "acc", else min.</param>
/// <param name="minDelta">Threshold of a significant change.</param>
/// <param name="cooldown">Epochs after a reduction before normal operation resumes.</param>
/// <param name="minLr">Lower bound of the learning rate.</param>
public sealed class ReduceLROnPlateau(
    string monitor = "val_loss",
    double factor = 0.1,
    int patience = 10,
    MonitorMode mode = MonitorMode.Auto,
    double minDelta = 1e-4,
    int cooldown = 0,
    double minLr = 0) : Callback
{
    private readonly Monitor _monitor = Monitor.Create(monitor, mode, minDelta);
    private readonly double _factor = factor >= 1.0 || factor <= 0
        ? throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau needs 0 < factor < 1.")
        : factor;

    /// <summary>Best value seen (±inf before the first).</summary>
    public double Best { get; private set; } = double.NaN;

    /// <summary>Epochs counted without improvement.</summary>
    public int Wait { get; private set; }

    /// <summary>Epochs of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Whether a reduction happened recently enough that counting is paused.</summary>
    public bool InCooldown => CooldownCounter > 0;

    /// <inheritdoc />
    private IReadOnlyDictionary<string, double>? _pendingState;

    public override void OnTrainBegin()
    {
        Best = _monitor.Worst;
        Wait = 0;
        CooldownCounter = 0;
        if (_pendingState is { } state)
        {
            Best = state.GetValueOrDefault("best", _monitor.Worst);
            Wait = (int)state.GetValueOrDefault("wait");
            CooldownCounter = (int)state.GetValueOrDefault("cooldown_counter");
            _pendingState = null;
        }
    }

    public override IReadOnlyDictionary<string, double>? GetState() =>
        new Dictionary<string, double> { ["best"] = Best, ["wait"] = Wait, ["cooldown_counter"] = CooldownCounter };

    public override void SetState(IReadOnlyDictionary<string, double> state) => _pendingState = state;

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (!_monitor.TryGet(logs, out double current))
        {
            Warn(_monitor.MissingMessage("Learning rate reduction", logs));
            return;
        }
        if (double.IsNaN(Best))
            OnTrainBegin();

        if (InCooldown)
        {
            CooldownCounter--;
            Wait = 0;
        }

        if (_monitor.IsImprovement(current, Best))
        {
            Best = current;
            Wait = 0;
        }
        else if (!InCooldown)
        {
            Wait++;
            if (Wait >= patience)
            {
                double oldLr = Trainer.LearningRate;
                // Keras compares with min_lr as float32.
                if (oldLr > (float)minLr)
                {
                    double newLr = Math.Max(oldLr * _factor, minLr);
                    Trainer.LearningRate = newLr;
                    CooldownCounter = cooldown;
                    Wait = 0;
                }
            }
        }
    }
}
