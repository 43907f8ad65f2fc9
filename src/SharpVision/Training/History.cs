namespace SharpVision.Training;

/// <summary>
/// What <see cref="Trainer.Fit"/> returns: one logs dictionary per epoch run, in order. Epoch numbers are
/// 1-based (epoch index 0 is "epoch 1"), like every file and message of SharpVision.
/// </summary>
public sealed class History
{
    private readonly List<int> _epochs = [];
    private readonly List<IReadOnlyDictionary<string, double>> _logs = [];

    /// <summary>1-based epoch numbers, one per entry of <see cref="Logs"/>.</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>Per-epoch logs (loss, accuracy, val_loss, val_accuracy, lr, seconds, skipped, ...).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Logs => _logs;

    /// <summary>Number of epochs recorded.</summary>
    public int Count => _logs.Count;

    /// <summary>Why training stopped before the last epoch (early stopping, NaN loss), or null.</summary>
    public string? StopReason { get; internal set; }

    /// <summary>Appends the logs of a finished epoch (copied).</summary>
    public void Add(int epochNumber, IReadOnlyDictionary<string, double> logs)
    {
        _epochs.Add(epochNumber);
        _logs.Add(new Dictionary<string, double>(logs));
    }

    /// <summary>The values of one metric, one per epoch (NaN where that epoch did not log it).</summary>
    public double[] Get(string name) =>
        _logs.Select(l => l.TryGetValue(name, out double v) ? v : double.NaN).ToArray();

    /// <summary>Whether any epoch logged <paramref name="name"/>.</summary>
    public bool Contains(string name) => _logs.Any(l => l.ContainsKey(name));
}
