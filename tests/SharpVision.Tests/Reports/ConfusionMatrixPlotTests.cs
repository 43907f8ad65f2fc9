using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class ConfusionMatrixPlotTests
{
    [Fact]
    public void Three_class_matrix_is_drawn_as_two_heatmaps_with_text()
    {
        int[,] m = { { 50, 3, 2 }, { 4, 20, 1 }, { 0, 5, 0 } };
        var png = PngProbe.NewPath("confusion-3.png");
        ConfusionMatrixPlot.Save(m, ["cat", "dog", "bird"], png);

        using var probe = new PngProbe(png);
        Assert.True(probe.Width > 2 * probe.Height * 0.8, "two panels side by side");
        Assert.True(probe.DarkPixels(0, 0, probe.Width, 40) > 200, "titles missing");
        Assert.True(probe.DistinctColours() > 30);
    }

    [Fact]
    public void Twenty_classes_with_long_names_still_render()
    {
        int n = 20;
        var m = new int[n, n];
        var rng = new Random(1);
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) m[r, c] = r == c ? 40 + rng.Next(60) : rng.Next(4);
        var names = Enumerable.Range(0, n).Select(i => $"class_{i}_{new string('x', i % 7)}").ToArray();
        var png = PngProbe.NewPath("confusion-20.png");
        ConfusionMatrixPlot.Save(m, names, png);

        using var probe = new PngProbe(png);
        Assert.True(probe.Width > 1200 && probe.Height > 600, $"{probe.Width}x{probe.Height}");
    }

    [Fact]
    public void Save_rejects_non_square_matrix_or_wrong_class_count()
    {
        Assert.Throws<ArgumentException>(() => ConfusionMatrixPlot.Save(new int[2, 3], ["a", "b"], PngProbe.NewPath("x.png")));
        Assert.Throws<ArgumentException>(() => ConfusionMatrixPlot.Save(new int[2, 2], ["a"], PngProbe.NewPath("x.png")));
    }
}
