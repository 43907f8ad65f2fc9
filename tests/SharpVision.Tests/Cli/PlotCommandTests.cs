using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public class PlotCommandTests(CliFixture fx)
{
    [Fact]
    public void Plot_redraws_curves_png_from_results_csv_with_a_learning_rate_panel()
    {
        // Given a run folder whose results.csv is still being written (last line unterminated)
        string run = Path.Combine(Path.GetTempPath(), "sharpvision-cli-tests", "plot-run");
        if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "results.csv"),
            "epoch,loss,accuracy,val_loss,val_accuracy,lr\n" +
            "1,1.20,0.55,1.10,0.60,0.01\n2,0.80,0.70,0.90,0.68,0.01\n3,0.50,0.82,0.70,0.75,0.001\n4,0.40,0.86,0.65,0.77,0.001\n5,0.3");

        // When plotted
        var r = Cli.Run("plot", run);

        // Then curves.png has three panels (loss, accuracy, lr) and the unfinished epoch is left out
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Plotted 4 epoch(s)", r.Out);
        using var probe = new PngProbe(Path.Combine(run, "curves.png"));
        Assert.Equal(3 * 600, probe.Width);
        Assert.Equal(500, probe.Height);
        Assert.True(probe.DarkPixels(1200, 0, 1800, 500) > 300, "the learning-rate panel is empty");
    }

    [Fact]
    public void Plot_of_a_folder_without_results_csv_is_an_error()
    {
        var r = Cli.Run("plot", fx.Root);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no results.csv inside", r.Error);
    }
}
