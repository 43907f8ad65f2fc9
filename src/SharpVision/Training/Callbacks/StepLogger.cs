using System.Globalization;
using System.Text;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Step-level rows for long epochs (<c>--log-every N</c>): every N training steps one row
/// <c>epoch,step,loss,accuracy,lr,images</c> (running epoch means so far) goes to steps.csv, flushed at once so a
/// running job can be watched. results.csv keeps one row per epoch.
/// </summary>
public sealed class StepLogger(string path, int every, bool append = false) : Callback, IDisposable
{
    private StreamWriter? _writer;

    public string Path { get; } = path;

    public override void OnTrainBegin()
    {
        if (every < 1) throw new InvalidOptionException("StepLogger.LogEvery", "an integer >= 1", every.ToString(CultureInfo.InvariantCulture));
        bool header = !append || !File.Exists(Path) || new FileInfo(Path).Length == 0;
        _writer = new StreamWriter(Path, append, new UTF8Encoding(false));
        if (header) _writer.WriteLine("epoch,step,loss,accuracy,lr,images");
        _writer.Flush();
    }

    public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (_writer is null || (step + 1) % every != 0) return;
        string F(string key) => logs.TryGetValue(key, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NA";
        _writer.WriteLine(string.Join(',',
            (Trainer.CurrentEpoch + 1).ToString(CultureInfo.InvariantCulture),
            (step + 1).ToString(CultureInfo.InvariantCulture),
            F(LogNames.Loss), F(LogNames.Accuracy),
            Trainer.LearningRate.ToString("R", CultureInfo.InvariantCulture), F(LogNames.Images)));
        _writer.Flush();
    }

    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs) => Dispose();

    public override void OnTrainAborted(Exception error) => Dispose();

    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
    }
}
