using System.Globalization;
using System.Text;

namespace SharpVision.Evaluation;

/// <summary>
/// Predictions of a classifier as a table: one row per image with the top-k labels and scores, and
/// optionally every class probability. Writes the CSV of <c>sharpvision predict --out</c>.
/// </summary>
public sealed class PredictionTable
{
    /// <summary>Makes a table of [N][K] probabilities for N files over the K classes.</summary>
    public PredictionTable(IReadOnlyList<string> paths, float[][] probabilities, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classes);
        if (paths.Count != probabilities.Length)
            throw new ArgumentException($"{paths.Count} paths for {probabilities.Length} probability rows", nameof(probabilities));
        for (int i = 0; i < probabilities.Length; i++)
            if (probabilities[i].Length != classes.Count)
                throw new ArgumentException($"row {i} has {probabilities[i].Length} probabilities for {classes.Count} classes", nameof(probabilities));
        Paths = paths;
        Probabilities = probabilities;
        Classes = classes;
    }

    /// <summary>Image paths, one per row.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>[N][K] class probabilities.</summary>
    public float[][] Probabilities { get; }

    /// <summary>Class names.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Paths.Count;

    /// <summary>
    /// The k best (class, score) of row <paramref name="row"/>, best first; equal scores keep class order
    /// (so the first entry is the arg-max).
    /// </summary>
    public IReadOnlyList<(int Class, float Score)> Top(int row, int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be positive, got {k}");
        var p = Probabilities[row];
        return Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).Take(k).Select(c => (c, p[c])).ToList();
    }

    /// <summary>
    /// The CSV: <c>file,label,score</c>, then <c>label_2,score_2,...,label_k,score_k</c> for
    /// <paramref name="topK"/> &gt; 1, then one <c>p_&lt;class&gt;</c> column per class with
    /// <paramref name="probabilities"/>. Scores have 6 decimals; fields are quoted when needed.
    /// </summary>
    public string ToCsv(int topK = 1, bool probabilities = false)
    {
        if (topK <= 0) throw new ArgumentOutOfRangeException(nameof(topK), $"topK must be positive, got {topK}");
        int k = Math.Min(topK, Classes.Count);
        var sb = new StringBuilder();
        var header = new List<string> { "file", "label", "score" };
        for (int j = 2; j <= k; j++) { header.Add($"label_{j}"); header.Add($"score_{j}"); }
        if (probabilities) header.AddRange(Classes.Select(c => "p_" + c));
        sb.AppendJoin(',', header.Select(CsvField)).Append('\n');
        for (int i = 0; i < Count; i++)
        {
            var fields = new List<string> { CsvField(Paths[i]) };
            foreach (var (c, s) in Top(i, k)) { fields.Add(CsvField(Classes[c])); fields.Add(Score(s)); }
            if (probabilities) fields.AddRange(Probabilities[i].Select(Score));
            sb.AppendJoin(',', fields).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// An aligned text table for the terminal: file, then label and score for each of the top k.
    /// Paths are shown relative to the current folder when they are inside it.
    /// </summary>
    public string ToText(int topK = 1)
    {
        int k = Math.Min(Math.Max(1, topK), Classes.Count);
        var rows = new List<string[]>();
        var header = new List<string> { "file", "label", "score" };
        for (int j = 2; j <= k; j++) { header.Add($"label_{j}"); header.Add($"score_{j}"); }
        rows.Add(header.ToArray());
        for (int i = 0; i < Count; i++)
        {
            var row = new List<string> { Display(Paths[i]) };
            foreach (var (c, s) in Top(i, k)) { row.Add(Classes[c]); row.Add(s.ToString("0.0000", CultureInfo.InvariantCulture)); }
            rows.Add(row.ToArray());
        }
        var widths = Enumerable.Range(0, header.Count).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows)
        {
            for (int c = 0; c < r.Length; c++)
            {
                if (c > 0) sb.Append("  ");
                // Scores are right-aligned so their decimal points line up; text is left-aligned.
                bool number = c > 0 && c % 2 == 0;
                sb.Append(number ? r[c].PadLeft(widths[c]) : c == r.Length - 1 ? r[c] : r[c].PadRight(widths[c]));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A score as written in CSVs: invariant culture, at most 6 decimals.</summary>
    public static string Score(float v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).</summary>
    public static string CsvField(string v) =>
        v.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;

    private static string Display(string path)
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }
}
