using System.Globalization;
using System.Text;

namespace SharpVision.Training.Callbacks;

/// <summary>
/// Keras <c>CSVLogger</c>: one row per epoch, flushed at once. Columns: <c>epoch</c> (1-based), then
/// <see cref="StandardColumns"/> (always present, <c>NA</c> when not logged), then any other key of the first epoch in
/// sorted order. In append mode an existing header is kept and its columns reused, so a resumed run continues the
/// same table.
/// </summary>
/// <param name="path">The CSV file (e.g. the run folder's results.csv).</param>
/// <param name="append">Append to an existing file (resume) instead of overwriting it.</param>
/// <param name="separator">Field separator.</param>
/// <param name="columns">Columns after <c>epoch</c>, in order; null = the standard ones, then every other log name.</param>
public sealed class CsvLogger(string path, bool append = false, char separator = ',', IReadOnlyList<string>? columns = null) : Callback, IDisposable
{
    /// <summary>Columns written first, in this order, after <c>epoch</c>.</summary>
    public static readonly IReadOnlyList<string> StandardColumns =
        [LogNames.Loss, LogNames.Accuracy, LogNames.ValLoss, LogNames.ValAccuracy, LogNames.LearningRate, LogNames.Seconds];

    private StreamWriter? _writer;
    private List<string>? _columns;

    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        Close();
        _columns = null;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        if (append && File.Exists(Path))
        {
            string? header = File.ReadLines(Path).FirstOrDefault();
            if (!string.IsNullOrWhiteSpace(header))
                _columns = header.Split(separator).Skip(1).ToList();
            _writer = new StreamWriter(Path, append: true, new UTF8Encoding(false));
        }
        else
        {
            _writer = new StreamWriter(Path, append: false, new UTF8Encoding(false));
        }
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (_writer is null)
            throw new InvalidOperationException("CsvLogger.OnEpochEnd before OnTrainBegin.");
        if (_columns is null)
        {
            // Explicit columns (a task's own set, e.g. detection's loss parts) else the standard ones then the rest.
            _columns = columns is not null ? [.. columns]
                : [.. StandardColumns, .. logs.Keys.Where(k => !StandardColumns.Contains(k)).Order(StringComparer.Ordinal)];
            _writer.WriteLine(string.Join(separator, ["epoch", .. _columns]));
        }
        var cells = new List<string>(_columns.Count + 1) { (epoch + 1).ToString(CultureInfo.InvariantCulture) };
        foreach (string key in _columns)
            cells.Add(logs.TryGetValue(key, out double v) ? v.ToString(CultureInfo.InvariantCulture) : "NA");
        _writer.WriteLine(string.Join(separator, cells));
        _writer.Flush();
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs) => Close();

    /// <inheritdoc />
    public override void OnTrainAborted(Exception error) => Close();

    /// <summary>Closes the file.</summary>
    public void Dispose() => Close();

    private void Close()
    {
        _writer?.Dispose();
        _writer = null;
    }

    /// <summary>
    /// Reads a file written by <see cref="CsvLogger"/>: one dictionary per row, <c>epoch</c> included, <c>NA</c>
    /// cells left out (curves, resume).
    /// </summary>
    public static List<Dictionary<string, double>> Read(string path, char separator = ',')
    {
        var rows = new List<Dictionary<string, double>>();
        string[]? header = null;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            string[] cells = line.Split(separator);
            if (header is null)
            {
                header = cells;
                continue;
            }
            var row = new Dictionary<string, double>();
            for (int i = 0; i < Math.Min(header.Length, cells.Length); i++)
                if (double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    row[header[i]] = v;
            rows.Add(row);
        }
        return rows;
    }
}
