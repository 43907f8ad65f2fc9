using ScottPlot;
using SharpVision.Reports;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// Precision-recall curves, one PNG per class: COCO's interpolated precision at the 101 recall points for
/// IoU 0.50 and 0.75 (area all, 100 detections), and VOC's raw precision after each detection (IoU &gt; 0.5).
/// </summary>
public static class PrCurvePlot
{
    /// <summary>Image width in pixels.</summary>
    public const int Width = 640;

    /// <summary>Image height in pixels.</summary>
    public const int Height = 520;

    /// <summary>
    /// Writes <c>pr_&lt;class&gt;.png</c> into <paramref name="folder"/> for every class with ground truth and
    /// returns the paths written (classes without ground truth have no curve).
    /// </summary>
    public static IReadOnlyList<string> SaveAll(DetectionEvalReport report, string folder)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(folder);
        var names = report.UniqueNames();
        var written = new List<string>();
        for (int k = 0; k < report.PerClass.Count; k++)
        {
            if (report.PerClass[k].AP <= -1) continue;
            string path = Path.Combine(folder, "pr_" + SafeFileName(names[k]) + ".png");
            Save(report, k, names[k], path);
            written.Add(path);
        }
        return written;
    }

    /// <summary>Draws class k's curves into <paramref name="pngPath"/> (written atomically).</summary>
    public static void Save(DetectionEvalReport report, int k, string title, string pngPath)
    {
        ReportFonts.Ensure();
        var c = report.PerClass[k];
        using var plot = new Plot();
        plot.Font.Set(ReportFonts.Family);
        plot.Title($"{title}: AP {c.AP:0.000}, AP50 {c.AP50:0.000}, VOC12 {c.Voc12AP:0.000}", 16);
        plot.XLabel("recall", 15);
        plot.YLabel("precision", 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;

        var recallPoints = CocoEvaluator.RecallThresholds.ToArray();
        var series = new (double Iou, string Label, string Colour)[] { (0.5, "COCO IoU=0.50", "#1f77b4"), (0.75, "COCO IoU=0.75", "#ff7f0e") };
        foreach (var (iou, label, colour) in series)
        {
            var s = plot.Add.Scatter(recallPoints, report.Coco.PrecisionCurve(k, iou));
            s.Color = Color.FromHex(colour);
            // The 0.50 curve is drawn wider so it still shows where the 0.75 curve lies on top of it.
            s.LineWidth = iou == 0.5 ? 5 : 2;
            s.MarkerSize = 0;
            s.LegendText = label;
        }
        var voc = report.Voc.Classes[k];
        if (voc.Recall.Length > 0)
        {
            var s = plot.Add.Scatter(voc.Recall, voc.Precision);
            s.Color = Color.FromHex("#2ca02c");
            s.LineWidth = 1.5f;
            s.LinePattern = LinePattern.Dashed;
            s.MarkerSize = voc.Recall.Length > 60 ? 0 : 4;
            s.LegendText = "VOC raw (IoU>0.5)";
        }
        plot.Axes.SetLimits(0, 1.0, 0, 1.05);
        var legend = plot.ShowLegend(Alignment.LowerLeft);
        legend.FontSize = 13;

        using var surface = SkiaImages.WhiteSurface(Width, Height);
        plot.Render(surface.Canvas, Width, Height);
        SkiaImages.SavePng(surface, pngPath);
    }

    private static string SafeFileName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars().Append(' ').ToHashSet();
        var s = new string(name.Select(ch => invalid.Contains(ch) ? '_' : ch).ToArray());
        return s.Length == 0 ? "class" : s;
    }
}
