using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpVision.Runs;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keeps a run folder's <see cref="RunStatus"/> file current for whoever watches the folder (the dashboard, a script):
/// running with the epoch, step, images/s and memory at every epoch and at most once a second between steps, then
/// finished, stopped or crashed when training ends. Also appends one row per epoch to <c>system.csv</c>
/// (<c>epoch,images_per_second,memory_mb</c>): speed and memory are properties of the machine, not of the model,
/// so they stay out of results.csv, whose rows a resumed run must reproduce exactly.
/// </summary>
/// <param name="runDir">The run folder.</param>
/// <param name="task">classification or detection.</param>
/// <param name="epochs">Epochs of the whole run (a fine-tune run's two stages are two fits of one monitor).</param>
public sealed class RunMonitor(string runDir, string task, int epochs) : Callback
{
    /// <summary>The per-epoch speed and memory file's name inside the run folder.</summary>
    public const string SystemCsv = "system.csv";

    // A heartbeat a second is live enough for a page that promises updates within 2 s, and costs one small
    // file rename a second against steps of tens of milliseconds.
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _sinceHeartbeat = new();
    private readonly Stopwatch _epochClock = new();
    private RunStatus? _status;
    private double _images;
    private double _trainSeconds;

    /// <summary>The last status written.</summary>
    public RunStatus? Status => _status;

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        // One session may span two fits (fine-tune stages): the start time stays the first fit's.
        var started = _status?.State == RunState.Running ? _status.Started : DateTime.UtcNow;
        _status = RunStatus.ForThisProcess(RunState.Running, task) with
        {
            Started = started, Epochs = epochs, EpochsCompleted = Trainer.EpochsCompleted, Steps = Trainer.StepsPerEpoch,
        };
        // Rows past the epoch this fit starts from belong to a run that was killed before its checkpoint.
        RunResume.TruncateRows(Path.Combine(runDir, SystemCsv), Trainer.Options.InitialEpoch);
        Write(_status);
    }

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch)
    {
        _images = 0;
        _trainSeconds = 0;
        _epochClock.Restart();
        Write(Current() with { Step = 0, Steps = Trainer.StepsPerEpoch });
    }

    /// <inheritdoc />
    public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        _images = logs.TryGetValue(LogNames.Images, out double images) ? images : _images;
        _trainSeconds = _epochClock.Elapsed.TotalSeconds;
        if (_sinceHeartbeat.IsRunning && _sinceHeartbeat.Elapsed < HeartbeatInterval) return;
        Write(Current() with { Step = step + 1, Steps = Trainer.StepsPerEpoch, ImagesPerSecond = Speed(), MemoryMb = RunStatus.ResidentMemoryMb() });
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        double? speed = Speed();
        double memory = RunStatus.ResidentMemoryMb();
        AppendSystemRow(epoch + 1, speed, memory);
        Write(Current() with { EpochsCompleted = epoch + 1, ImagesPerSecond = speed, MemoryMb = memory, Steps = Trainer.StepsPerEpoch });
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs)
    {
        // A stage that ends before the run's last epoch (fine-tune stage 1) leaves the run running.
        if (Trainer.StopReason is null && Trainer.EpochsCompleted < epochs) return;
        Write(Current() with { State = RunState.Finished, EpochsCompleted = Trainer.EpochsCompleted, Message = Trainer.StopReason });
    }

    /// <inheritdoc />
    public override void OnTrainAborted(Exception error)
    {
        var status = Current() with { EpochsCompleted = Trainer.EpochsCompleted };
        Write(error is TrainingCanceledException stop
            ? status with { State = RunState.Stopped, Message = $"stopped in epoch {stop.Epoch + 1} after {stop.Steps} step(s); {stop.EpochsCompleted} epoch(s) complete" }
            : error is OperationCanceledException
                ? status with { State = RunState.Stopped, Message = "stopped" }
                : status with { State = RunState.Crashed, Message = $"{error.GetType().Name}: {error.Message}" });
    }

    private RunStatus Current() => _status ?? RunStatus.ForThisProcess(RunState.Running, task) with { Epochs = epochs };

    private double? Speed() => _trainSeconds > 0 && _images > 0 ? _images / _trainSeconds : null;

    private void Write(RunStatus status)
    {
        _status = status with { Updated = DateTime.UtcNow };
        _sinceHeartbeat.Restart();
        try
        {
            _status.Write(runDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Watching is optional: a full disk or a read-only copy of the folder must not stop training.
            Warn($"could not write {RunStatus.FileName} in {runDir}: {e.Message}");
        }
    }

    private void AppendSystemRow(int epoch, double? speed, double memory)
    {
        string path = Path.Combine(runDir, SystemCsv);
        static string Cell(double? v) => v is { } x ? x.ToString("0.###", CultureInfo.InvariantCulture) : "NA";
        try
        {
            bool header = !File.Exists(path) || new FileInfo(path).Length == 0;
            var text = new StringBuilder();
            if (header) text.Append("epoch,images_per_second,memory_mb\n");
            text.Append(CultureInfo.InvariantCulture, $"{epoch},{Cell(speed)},{Cell(memory)}\n");
            File.AppendAllText(path, text.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Warn($"could not write {SystemCsv} in {runDir}: {e.Message}");
        }
    }
}
