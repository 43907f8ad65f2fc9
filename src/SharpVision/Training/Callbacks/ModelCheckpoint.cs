using SharpVision.Weights;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keras <c>ModelCheckpoint</c>: saves the model at the end of each epoch, or only when the monitored metric
/// improves (<paramref name="saveBestOnly"/>). The file is written through <paramref name="save"/> (the model-file
/// writer lives in Weights) on a temporary path and then renamed over the target (<see cref="AtomicFile"/>), so a
/// crash mid-save never leaves a truncated checkpoint.
/// </summary>
/// <param name="filepath">
/// Target path; may hold Keras placeholders: <c>{epoch}</c> / <c>{epoch:02d}</c> (1-based) and any log name
/// such as <c>{val_loss:.4f}</c>.
/// </param>
/// <param name="save">Writes the model to the given path; the flag says weights only.</param>
/// <param name="monitor">Metric compared when <paramref name="saveBestOnly"/>.</param>
/// <param name="mode">auto = max for names containing "acc", else min.</param>
/// <param name="saveBestOnly">
/// Save only on improvement (a missing metric saves anyway, with a warning, like Keras). A NaN metric, or a NaN or
/// infinite loss, never saves: the best file keeps the last good weights.
/// </param>
/// <param name="saveWeightsOnly">Passed to <paramref name="save"/>.</param>
/// <param name="initialValueThreshold">Keras <c>initial_value_threshold</c>: the best value a run starts from (resume).</param>
public sealed class ModelCheckpoint(
    string filepath,
    Action<string, bool> save,
    string monitor = "val_loss",
    MonitorMode mode = MonitorMode.Auto,
    bool saveBestOnly = false,
    bool saveWeightsOnly = false,
    double? initialValueThreshold = null) : Callback
{
    private static readonly Regex Placeholder = new(@"\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?<spec>[^}]*))?\}", RegexOptions.Compiled);

    private readonly Monitor _monitor = Monitor.Create(monitor, mode, 0);
    private readonly Action<string, bool> _save = save ?? throw new ArgumentNullException(nameof(save));
    private double? _initialBest = initialValueThreshold;
    private double? _best = initialValueThreshold;

    /// <summary>The path template.</summary>
    public string Filepath { get; } = string.IsNullOrWhiteSpace(filepath) ? throw new ArgumentException("Empty checkpoint path.", nameof(filepath)) : filepath;

    /// <summary>Name of the monitored metric.</summary>
    public string MonitorName => _monitor.Name;

    /// <summary>Whether larger values of the monitored metric are better.</summary>
    public bool Maximize => _monitor.Maximize;

    /// <summary>
    /// Best monitored value so far (null before any). Setting it (e.g. from a resumed run's state) also makes it
    /// the value the next <see cref="Callback.OnTrainBegin"/> starts from.
    /// </summary>
    public double? Best
    {
        get => _best;
        set
        {
            _best = value;
            _initialBest = value;
        }
    }

    /// <summary>0-based epoch index of the last save, or null.</summary>
    public int? LastSavedEpoch { get; private set; }

    /// <summary>Path of the last file written, or null.</summary>
    public string? LastSavedPath { get; private set; }

    /// <summary>
    /// Where to save the current weights when training is cancelled (<see cref="Callback.OnTrainInterrupted"/>),
    /// through the same <c>save</c> and atomically; null = nothing is saved on cancellation. A plain path (no
    /// placeholders). A file left there by an earlier interruption is deleted when training ends normally (like
    /// Keras' BackupAndRestore deletes its backup), since it then no longer holds the newest weights.
    /// </summary>
    public string? InterruptedPath { get; init; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double>? GetState() =>
        _best is { } best ? new Dictionary<string, double> { ["best"] = best } : new Dictionary<string, double>();

    public override void SetState(IReadOnlyDictionary<string, double> state) =>
        Best = state.TryGetValue("best", out var best) ? best : null;

    public override void OnTrainBegin()
    {
        _best = _initialBest;
        LastSavedEpoch = null;
        LastSavedPath = null;
    }

    /// <inheritdoc />
    public override void OnTrainInterrupted(TrainingCanceledException interruption)
    {
        if (InterruptedPath is not { } path) return;
        AtomicFile.Write(path, tmp => _save(tmp, saveWeightsOnly));
        interruption.AddSavedFile(Path.GetFullPath(path));
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs)
    {
        if (InterruptedPath is { } path && File.Exists(path))
            File.Delete(path);
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        string path = FormatPath(Filepath, epoch, logs);
        if (saveBestOnly)
        {
            // A non-finite loss (TerminateOnNaN stops at the end of such an epoch) means the weights are
            // corrupt: the previous best must stay. A NaN monitored value is never an improvement (as in Keras,
            // where NaN < best is false), even when there is no best yet.
            if (logs.TryGetValue(LogNames.Loss, out double loss) && !double.IsFinite(loss))
            {
                Warn($"loss is {loss.ToString(CultureInfo.InvariantCulture)}; not saving {path} (the weights are not usable).");
                return;
            }
            if (!_monitor.TryGet(logs, out double current))
            {
                Warn($"Can save best model only with {_monitor.Name} available; saving {path} anyway.");
            }
            else if (double.IsNaN(current))
            {
                return;
            }
            else if (_best is null || _monitor.IsImprovement(current, _best.Value))
            {
                _best = current;
            }
            else
            {
                return;
            }
        }
        AtomicFile.Write(path, tmp => _save(tmp, saveWeightsOnly));
        LastSavedEpoch = epoch;
        LastSavedPath = path;
    }

    /// <summary>
    /// Fills <c>{epoch}</c> (1-based), <c>{epoch:02d}</c> and <c>{name:.Nf}</c> placeholders like Python's format.
    /// </summary>
    /// <exception cref="SharpVisionException">A placeholder names a value that is not logged.</exception>
    public static string FormatPath(string template, int epoch, IDictionary<string, double> logs) =>
        Placeholder.Replace(template, m =>
        {
            string name = m.Groups["name"].Value;
            string spec = m.Groups["spec"].Value;
            double value;
            if (name == "epoch")
                value = epoch + 1;
            else if (!logs.TryGetValue(name, out value))
                throw new SharpVisionException(
                    $"Failed to format the checkpoint path \"{template}\": no value named {name}. Available: epoch, {string.Join(", ", logs.Keys)}");
            return FormatValue(value, spec, name == "epoch");
        });

    // Supports the format specs people put in checkpoint names: "", "d", "02d", "3d", ".2f", ".4e", "g".
    private static string FormatValue(double value, string spec, bool isInteger)
    {
        var inv = CultureInfo.InvariantCulture;
        if (spec.Length == 0)
            return isInteger ? ((long)value).ToString(inv) : value.ToString(inv);
        char kind = spec[^1];
        string body = spec[..^1];
        switch (kind)
        {
            case 'd':
            {
                bool zero = body.StartsWith('0');
                int width = body.Length == 0 ? 0 : int.Parse(body, inv);
                string s = ((long)Math.Round(value)).ToString(inv);
                return zero ? s.PadLeft(width, '0') : s.PadLeft(width);
            }
            case 'f':
            case 'e':
            {
                int precision = body.StartsWith('.') ? int.Parse(body[1..], inv) : 6;
                return kind == 'f'
                    ? value.ToString("F" + precision, inv)
                    : value.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", inv);
            }
            default:
                return value.ToString(inv);
        }
    }
}
