using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>
/// Draws a run's per-epoch logs (the columns of results.csv: <c>epoch, loss, accuracy, val_loss,
/// val_accuracy, lr, ...</c>) as side-by-side panels: loss, accuracy (or a detector's validation mAP@0.5), and
/// learning rate when it varies.
/// Missing columns are simply not drawn; extra columns are ignored.
/// </summary>
public static class TrainingCurves
{
    /// <summary>Width of one panel in pixels (two panels give 1200x500).</summary>
    public const int PanelWidth = 600;

    /// <summary>Height of the image in pixels.</summary>
    public const int Height = 500;

    private sealed record Panel(string Title, string YLabel, (string Key, string Legend)[] Series);

    private static readonly Panel[] _panels =
    [
        new("Loss", "loss", [("loss", "train"), ("val_loss", "validation")]),
        new("Accuracy", "accuracy", [("accuracy", "train"), ("val_accuracy", "validation")]),
        new("mAP@0.5", "mAP@0.5", [("val_map50", "validation")]),
        new("Learning rate", "learning rate", [("lr", "lr")]),
    ];

    /// <summary>
    /// Reads results.csv into one dictionary per epoch (column name -> value). Tolerates a run that is still
    /// writing: the file is opened shared, an unterminated last line is dropped, and a row with the wrong
    /// number of fields or an unparsable number is skipped. Empty and NA cells are left out of the row.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> FromCsv(string resultsCsvPath)
    {
        if (!File.Exists(resultsCsvPath))
            throw new SharpVisionException($"{resultsCsvPath}: results file not found");
        string text;
        using (var stream = new FileStream(resultsCsvPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            text = reader.ReadToEnd();

        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        // The writer appends whole lines ending in '\n': anything after the last '\n' is still being written.
        if (!text.EndsWith('\n')) lines.RemoveAt(lines.Count - 1);
        lines.RemoveAll(string.IsNullOrWhiteSpace);
        if (lines.Count == 0) return [];

        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        var rows = new List<IReadOnlyDictionary<string, double>>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            if (fields.Length != header.Length) continue;
            var row = new Dictionary<string, double>(StringComparer.Ordinal);
            bool ok = true;
            for (int i = 0; i < fields.Length && ok; i++)
            {
                var f = fields[i].Trim();
                // Empty and "NA" cells (CsvLogger's missing value, e.g. val_loss without validation) are absent.
                if (f.Length == 0 || f == "NA") continue;
                if (double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) row[header[i]] = v;
                else if (f.Equals("nan", StringComparison.OrdinalIgnoreCase)) row[header[i]] = double.NaN;
                else ok = false;
            }
            if (ok) rows.Add(row);
        }
        return rows;
    }

    /// <summary>Redraws the curves of a results.csv into <paramref name="pngPath"/>.</summary>
    public static void Save(string resultsCsvPath, string pngPath) => Save(FromCsv(resultsCsvPath), pngPath);

    /// <summary>
    /// Draws the curves into <paramref name="pngPath"/> (written atomically): a loss panel, an accuracy panel
    /// when accuracy is logged, and a learning-rate panel when <c>lr</c> takes more than one value.
    /// The x axis is the <c>epoch</c> column when present, else 1, 2, 3, ...
    /// </summary>
    public static void Save(IReadOnlyList<IReadOnlyDictionary<string, double>> epochs, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        ReportFonts.Ensure();

        var panels = _panels.Where(p => Shown(p, epochs)).ToList();
        if (panels.Count == 0) panels.Add(_panels[0]); // nothing logged yet: an empty, titled loss panel
        int width = PanelWidth * panels.Count;

        using var surface = SkiaImages.WhiteSurface(width, Height);
        for (int i = 0; i < panels.Count; i++)
        {
            // ScottPlot clears the whole canvas it renders into, so each panel is drawn on its own surface
            // and then copied into place.
            using var plot = BuildPlot(panels[i], epochs);
            using var panelSurface = SkiaImages.WhiteSurface(PanelWidth, Height);
            plot.Render(panelSurface.Canvas, PanelWidth, Height);
            using var snapshot = panelSurface.Snapshot();
            surface.Canvas.DrawImage(snapshot, i * PanelWidth, 0, new SKSamplingOptions(SKFilterMode.Nearest), null);
        }
        SkiaImages.SavePng(surface, pngPath);
    }

    private static bool Shown(Panel panel, IReadOnlyList<IReadOnlyDictionary<string, double>> epochs)
    {
        var values = panel.Series.SelectMany(s => epochs.Select(e => e.TryGetValue(s.Key, out var v) ? v : double.NaN))
                                 .Where(double.IsFinite).ToArray();
        if (values.Length == 0) return false;
        // The learning rate is only worth a panel when a schedule changed it.
        return panel.Title != "Learning rate" || values.Distinct().Count() > 1;
    }

    private static Plot BuildPlot(Panel panel, IReadOnlyList<IReadOnlyDictionary<string, double>> epochs)
    {
        var plot = new Plot();
        plot.Font.Set(ReportFonts.Family);
        plot.Title(epochs.Count == 0 ? $"{panel.Title} (no epochs yet)" : panel.Title, 20);
        plot.XLabel("epoch", 15);
        plot.YLabel(panel.YLabel, 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        // Epochs are whole numbers: no 1.5 ticks on short runs.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

        var palette = new[] { ScottPlot.Color.FromHex("#1f77b4"), ScottPlot.Color.FromHex("#ff7f0e") };
        bool anyLegend = false;
        for (int s = 0; s < panel.Series.Length; s++)
        {
            var (key, legend) = panel.Series[s];
            var xs = new List<double>();
            var ys = new List<double>();
            for (int e = 0; e < epochs.Count; e++)
            {
                if (!epochs[e].TryGetValue(key, out var y) || !double.IsFinite(y)) continue;
                xs.Add(epochs[e].TryGetValue("epoch", out var x) && double.IsFinite(x) ? x : e + 1);
                ys.Add(y);
            }
            if (xs.Count == 0) continue;
            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.Color = palette[s % palette.Length];
            scatter.LineWidth = 2;
            scatter.MarkerSize = xs.Count > 60 ? 0 : 6;
            if (key.StartsWith("val_", StringComparison.Ordinal)) scatter.LinePattern = LinePattern.Dashed;
            if (key == "lr")
            {
                // The rate holds for a whole epoch: steps show a schedule's drops where they happen.
                scatter.ConnectStyle = ConnectStyle.StepHorizontal;
                continue; // one series needs no legend
            }
            scatter.LegendText = legend;
            anyLegend = true;
        }

        if (panel.Title == "Learning rate")
        {
            // Learning rates are small numbers: engineering notation keeps tick labels short and readable.
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                LabelFormatter = v => v == 0 ? "0" : v.ToString("0.##E+0", CultureInfo.InvariantCulture),
            };
        }
        else if (anyLegend)
        {
            var legend = plot.ShowLegend(panel.Title == "Loss" ? Alignment.UpperRight : Alignment.LowerRight);
            legend.FontSize = 14;
        }
        return plot;
    }
}
