using System.Globalization;
using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class TrainingCurvesTests
{
    private static string WriteCsv(string name, string content)
    {
        var path = PngProbe.NewPath(name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string Results(int epochs, bool varyLr)
    {
        var lines = new List<string> { "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,top5_accuracy" };
        for (int e = 1; e <= epochs; e++)
        {
            double loss = 2.0 * Math.Exp(-0.3 * e), val = loss * 1.15 + 0.02 * (e % 3);
            double lr = varyLr ? 0.01 * Math.Pow(0.5, (e - 1) / 3) : 0.001;
            lines.Add(string.Join(',', new[] { e, loss, 1 - loss / 2.2, val, 1 - val / 2.3, lr, 1.5, 0.99 }
                .Select(v => v.ToString(CultureInfo.InvariantCulture))));
        }
        return string.Join('\n', lines) + "\n";
    }

    [Fact]
    public void Curves_from_csv_without_lr_change_are_two_panels_1200x500_with_text()
    {
        // Given a results.csv with a constant lr; When it is drawn; Then two panels, titles and legends are present.
        var csv = WriteCsv("results-constant-lr.csv", Results(12, varyLr: false));
        var png = PngProbe.NewPath("curves-two-panels.png");
        TrainingCurves.Save(csv, png);

        using var probe = new PngProbe(png);
        Assert.Equal((1200, 500), (probe.Width, probe.Height));
        Assert.True(probe.DarkPixels(200, 0, 400, 40) > 50, "loss title missing");
        Assert.True(probe.DarkPixels(800, 0, 1000, 40) > 50, "accuracy title missing");
        Assert.True(probe.DistinctColours() > 20);
    }

    [Fact]
    public void Varying_learning_rate_adds_a_third_panel()
    {
        var epochs = TrainingCurves.FromCsv(WriteCsv("results-step-lr.csv", Results(12, varyLr: true)));
        var png = PngProbe.NewPath("curves-with-lr.png");
        TrainingCurves.Save(epochs, png);

        using var probe = new PngProbe(png);
        Assert.Equal((1800, 500), (probe.Width, probe.Height));
        Assert.True(probe.DarkPixels(1400, 0, 1600, 40) > 50, "learning-rate title missing");
    }

    [Fact]
    public void FromCsv_drops_a_partially_written_last_line_and_keeps_complete_rows()
    {
        // Given a run still writing its 3rd row; When read; Then only the 2 complete rows come back.
        var csv = WriteCsv("results-partial.csv", "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,0.9,0.6,1.0,0.55,0.01,2.0\n2,0.7,0.7,,0.6,0.01,2.1\n3,0.5,0.");
        var rows = TrainingCurves.FromCsv(csv);

        Assert.Equal(2, rows.Count);
        Assert.Equal(0.7, rows[1]["loss"]);
        Assert.False(rows[1].ContainsKey("val_loss")); // empty cell = missing value, not zero
        TrainingCurves.Save(rows, PngProbe.NewPath("curves-partial.png"));
    }

    [Fact]
    public void Missing_accuracy_columns_give_only_the_loss_panel()
    {
        var csv = WriteCsv("results-loss-only.csv", "epoch,loss\n1,1.0\n2,0.5\n");
        var png = PngProbe.NewPath("curves-loss-only.png");
        TrainingCurves.Save(csv, png);

        using var probe = new PngProbe(png);
        Assert.Equal((600, 500), (probe.Width, probe.Height));
    }

    [Fact]
    public void Save_replaces_an_existing_file_and_leaves_no_temporary_files()
    {
        var dir = Path.Combine(PngProbe.OutputDir, "atomic");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.CreateDirectory(dir);
        var png = Path.Combine(dir, "curves.png");
        File.WriteAllText(png, "old");
        var epochs = TrainingCurves.FromCsv(WriteCsv("results-atomic.csv", Results(3, false)));

        TrainingCurves.Save(epochs, png);

        Assert.Equal(new[] { "curves.png" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        using var probe = new PngProbe(png);
        Assert.Equal(1200, probe.Width);
    }
}
