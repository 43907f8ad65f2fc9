namespace SharpVision.Bench;

/// <summary>A plain-text table: rows of cells, columns padded to their widest cell, numbers right-aligned.</summary>
public sealed class Table(params string[] header)
{
    private readonly List<string[]> _rows = [header];

    public Table Add(params string[] cells)
    {
        _rows.Add(cells);
        return this;
    }

    public void Print(TextWriter output)
    {
        int columns = _rows.Max(r => r.Length);
        var widths = Enumerable.Range(0, columns).Select(c => _rows.Max(r => c < r.Length ? r[c].Length : 0)).ToArray();
        for (int r = 0; r < _rows.Count; r++)
        {
            var cells = _rows[r].Select((cell, c) =>
                c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
            if (r == 0) output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
    }
}

/// <summary>Small statistics over repeated measurements.</summary>
public static class Stats
{
    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>"min..max" of the values, to show the spread next to a median.</summary>
    public static string Range(IReadOnlyCollection<double> values, string format) =>
        values.Count == 0 ? "" : $"{values.Min().ToString(format)}..{values.Max().ToString(format)}";

    /// <summary>"min..max (±s%)": the range and (max - min) / 2 as a percentage of the median.</summary>
    public static string Spread(IReadOnlyCollection<double> values, string format) =>
        values.Count == 0 ? "" : $"{Range(values, format)} (±{(values.Max() - values.Min()) / 2 / Median(values) * 100:F0}%)";
}
