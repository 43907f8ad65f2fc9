namespace SharpVision.Training.Callbacks;

/// <summary>Direction of a monitored metric: <c>auto</c> picks max for names containing "acc", else min.</summary>
public enum MonitorMode
{
    Auto,
    Min,
    Max,
}

/// <summary>Improvement test shared by ModelCheckpoint, EarlyStopping and ReduceLROnPlateau.</summary>
internal readonly record struct Monitor(string Name, bool Maximize, double MinDelta)
{
    public static Monitor Create(string name, MonitorMode mode, double minDelta)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("The monitored metric name is empty.", nameof(name));
        bool max = mode switch
        {
            MonitorMode.Max => true,
            MonitorMode.Min => false,
            _ => name.Contains("acc", StringComparison.Ordinal),
        };
        return new Monitor(name, max, Math.Abs(minDelta));
    }

    /// <summary>Value a fresh run starts from: +inf when minimising, -inf when maximising.</summary>
    public double Worst => Maximize ? double.NegativeInfinity : double.PositiveInfinity;

    /// <summary>Keras: better than <paramref name="reference"/> by more than min_delta (strictly).</summary>
    public bool IsImprovement(double current, double reference) =>
        Maximize ? current - MinDelta > reference : current + MinDelta < reference;

    public bool TryGet(IDictionary<string, double> logs, out double value) => logs.TryGetValue(Name, out value);

    public string MissingMessage(string who, IDictionary<string, double> logs) =>
        $"{who} is conditioned on metric `{Name}` which is not available. Available metrics are: {string.Join(",", logs.Keys)}";
}

/// <summary>Parses <c>auto|min|max</c>.</summary>
public static class MonitorModes
{
    /// <summary>Parses a mode name; <paramref name="option"/> names the setting in the error message.</summary>
    public static MonitorMode Parse(string value, string option = "MonitorMode.Mode") => value?.Trim().ToLowerInvariant() switch
    {
        "auto" => MonitorMode.Auto,
        "min" => MonitorMode.Min,
        "max" => MonitorMode.Max,
        _ => throw new InvalidOptionException(option, "one of auto, min, max", value ?? ""),
    };
}
