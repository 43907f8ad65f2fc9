using System.Globalization;
using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>
/// Two heatmaps side by side: raw counts and row-normalised rates (each row divided by its support, so the
/// diagonal is per-class recall). Rows are the actual class, columns the predicted class; every cell has
/// its number written in it, class names label both axes. Sized for 2 to about 20 classes.
/// </summary>
public static class ConfusionMatrixPlot
{
    private const int Margin = 16;
    private const string CountsTitle = "Confusion matrix (counts)";
    private const string RatesTitle = "Normalised by actual class (recall)";

    /// <summary>Draws the matrix (rows = actual, columns = predicted) into <paramref name="pngPath"/>.</summary>
    public static void Save(int[,] matrix, IReadOnlyList<string> classes, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(classes);
        int n = matrix.GetLength(0);
        if (n == 0 || matrix.GetLength(1) != n)
            throw new ArgumentException($"a confusion matrix must be square and non-empty, got {matrix.GetLength(0)}x{matrix.GetLength(1)}", nameof(matrix));
        if (classes.Count != n)
            throw new ArgumentException($"{classes.Count} class names for a {n}x{n} matrix", nameof(classes));
        ReportFonts.Ensure();

        // Cells shrink as classes grow, within limits that keep the numbers legible.
        int cell = Math.Clamp(600 / n, 30, 90);
        float cellFont = Math.Clamp(cell * 0.3f, 10f, 20f);
        using var numberFont = new SKFont(ReportFonts.Typeface, cellFont) { Edging = SKFontEdging.Antialias };
        using var labelFont = new SKFont(ReportFonts.Typeface, 14) { Edging = SKFontEdging.Antialias };
        using var axisFont = new SKFont(ReportFonts.Bold, 16) { Edging = SKFontEdging.Antialias };
        using var titleFont = new SKFont(ReportFonts.Bold, 18) { Edging = SKFontEdging.Antialias };

        var labels = classes.Select(c => SkiaImages.Fit(c, labelFont, 160)).ToArray();
        float maxLabel = labels.Max(l => labelFont.MeasureText(l));
        // Column labels are turned 45 degrees when they would not fit under their column.
        bool rotate = maxLabel > cell - 4;
        float columnLabelHeight = rotate ? maxLabel * 0.71f + labelFont.Size : labelFont.Spacing;

        int gridSize = cell * n;
        int left = Margin + (int)axisFont.Spacing + 6 + (int)Math.Ceiling(maxLabel) + 8; // "Actual", row labels
        int top = Margin + (int)titleFont.Spacing + 10;
        int bottomArea = 8 + (int)Math.Ceiling(columnLabelHeight) + 10 + (int)axisFont.Spacing + Margin; // column labels, "Predicted"
        int panelWidth = left + gridSize + Margin + (rotate ? (int)(maxLabel * 0.71f) : 0);
        // Titles are centred over the grid; widen the panel when a title is wider than a small grid.
        float titleWidth = Math.Max(titleFont.MeasureText(CountsTitle), titleFont.MeasureText(RatesTitle));
        panelWidth = Math.Max(panelWidth, left + gridSize / 2 + (int)Math.Ceiling(titleWidth / 2) + Margin);
        int width = 2 * panelWidth, height = top + gridSize + bottomArea;

        var counts = new double[n, n];
        var rates = new double[n, n];
        int maxCount = 1;
        for (int r = 0; r < n; r++)
        {
            long support = 0;
            for (int c = 0; c < n; c++) { support += matrix[r, c]; maxCount = Math.Max(maxCount, matrix[r, c]); }
            for (int c = 0; c < n; c++) rates[r, c] = support == 0 ? double.NaN : (double)matrix[r, c] / support;
        }
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) counts[r, c] = (double)matrix[r, c] / maxCount;

        using var surface = SkiaImages.WhiteSurface(width, height);
        var canvas = surface.Canvas;
        DrawPanel(canvas, 0, CountsTitle, counts, (r, c) => matrix[r, c].ToString(CultureInfo.InvariantCulture));
        DrawPanel(canvas, panelWidth, RatesTitle, rates,
            (r, c) => double.IsNaN(rates[r, c]) ? "-" : rates[r, c].ToString("0.00", CultureInfo.InvariantCulture));
        SkiaImages.SavePng(surface, pngPath);

        void DrawPanel(SKCanvas cv, int x0, string title, double[,] intensity, Func<int, int, string> text)
        {
            using var paint = new SKPaint { IsAntialias = true };
            int gx = x0 + left, gy = top;

            paint.Color = new SKColor(20, 20, 20);
            cv.DrawText(title, gx + gridSize / 2f, Margin - titleFont.Metrics.Ascent, SKTextAlign.Center, titleFont, paint);

            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    double v = double.IsNaN(intensity[r, c]) ? 0 : intensity[r, c];
                    var rect = new SKRect(gx + c * cell, gy + r * cell, gx + (c + 1) * cell, gy + (r + 1) * cell);
                    paint.Color = Blues(v);
                    cv.DrawRect(rect, paint);
                    paint.Color = v > 0.55 ? SKColors.White : new SKColor(20, 20, 20);
                    var s = SkiaImages.Fit(text(r, c), numberFont, cell - 4);
                    cv.DrawText(s, rect.MidX, rect.MidY - (numberFont.Metrics.Ascent + numberFont.Metrics.Descent) / 2, SKTextAlign.Center, numberFont, paint);
                }
            }
            paint.Color = new SKColor(120, 120, 120);
            paint.Style = SKPaintStyle.Stroke;
            cv.DrawRect(new SKRect(gx, gy, gx + gridSize, gy + gridSize), paint);
            paint.Style = SKPaintStyle.Fill;

            // Row labels (actual), right-aligned against the grid.
            paint.Color = new SKColor(20, 20, 20);
            for (int r = 0; r < n; r++)
                cv.DrawText(labels[r], gx - 8, gy + r * cell + cell / 2f - (labelFont.Metrics.Ascent + labelFont.Metrics.Descent) / 2,
                    SKTextAlign.Right, labelFont, paint);

            // Column labels (predicted), under the grid; rotated when long.
            float ly = gy + gridSize + 8;
            for (int c = 0; c < n; c++)
            {
                float cx = gx + c * cell + cell / 2f;
                if (!rotate)
                {
                    cv.DrawText(labels[c], cx, ly - labelFont.Metrics.Ascent, SKTextAlign.Center, labelFont, paint);
                    continue;
                }
                cv.Save();
                cv.Translate(cx, ly + labelFont.Size * 0.5f);
                cv.RotateDegrees(45);
                cv.DrawText(labels[c], 0, labelFont.Size * 0.35f, SKTextAlign.Left, labelFont, paint);
                cv.Restore();
            }

            // Axis titles.
            cv.DrawText("Predicted", gx + gridSize / 2f, ly + columnLabelHeight + 10 - axisFont.Metrics.Ascent, SKTextAlign.Center, axisFont, paint);
            cv.Save();
            cv.Translate(x0 + Margin - axisFont.Metrics.Ascent, gy + gridSize / 2f);
            cv.RotateDegrees(-90);
            cv.DrawText("Actual", 0, 0, SKTextAlign.Center, axisFont, paint);
            cv.Restore();
        }
    }

    // White to dark blue, like matplotlib's "Blues": light cells keep dark text readable.
    private static SKColor Blues(double v)
    {
        v = Math.Clamp(v, 0, 1);
        static byte Lerp(double a, double b, double t) => (byte)Math.Round(a + (b - a) * t);
        return new SKColor(Lerp(247, 8, v), Lerp(251, 48, v), Lerp(255, 107, v));
    }
}
