using SharpVision.Weights;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using ProgressBar = SharpVision.Cli.ProgressBar;
using Spectre.Console;
using static SharpVision.Tests.Training.TestKit;

namespace SharpVision.Tests.Training;

public class FileAndConsoleTests
{
    [Fact]
    public void AtomicFile_leaves_the_old_file_intact_when_the_writer_throws()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sv-atomic").FullName, "best.bin");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, tmp =>
        {
            File.WriteAllText(tmp, "half");
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void AtomicFile_replaces_the_file_when_the_writer_succeeds()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sv-atomic").FullName, "sub", "last.bin");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
    }

    [Fact]
    public void CsvLogger_writes_standard_columns_first_and_appends_on_resume()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sv-csv").FullName, "results.csv");
        var first = new CsvLogger(path);
        var (_, _, opt) = Attached(callbacks: first);
        using var _ = opt;
        first.OnTrainBegin();
        first.OnEpochEnd(0, Logs(("loss", 0.5), ("accuracy", 0.8), ("lr", 0.01), ("seconds", 1.5), ("skipped", 0)));
        first.OnEpochEnd(1, Logs(("loss", 0.25), ("accuracy", 0.9), ("lr", 0.01), ("seconds", 1.25), ("skipped", 1)));
        first.OnTrainEnd(null);

        var resumed = new CsvLogger(path, append: true);
        resumed.SetTrainer(new Trainer(new TrainOptions()));
        resumed.OnTrainBegin();
        resumed.OnEpochEnd(2, Logs(("loss", 0.125), ("accuracy", 0.95), ("lr", 0.001), ("seconds", 1.0), ("skipped", 0)));
        resumed.OnTrainEnd(null);

        var lines = File.ReadAllLines(path);
        Assert.Equal("epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,skipped", lines[0]);
        Assert.Equal("1,0.5,0.8,NA,NA,0.01,1.5,0", lines[1]);
        Assert.Equal(4, lines.Length);
        var rows = CsvLogger.Read(path);
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, rows.Select(r => r["epoch"]));
        Assert.Equal(0.125, rows[2]["loss"]);
        Assert.False(rows[0].ContainsKey("val_loss"));
    }

    [Fact]
    public void Plain_epoch_line_shows_metrics_and_skipped_images()
    {
        var line = ProgressBar.FormatEpochLine(2, 20, Logs(("loss", 0.43214), ("accuracy", 0.9), ("lr", 0.001), ("seconds", 4.24), ("skipped", 2)));
        Assert.Equal("Epoch 3/20 - 4.2s - loss: 0.4321 - accuracy: 0.9000 - lr: 0.001 - 2 unreadable images skipped", line);
    }

    [Fact]
    public void Interactive_progress_bar_renders_and_prints_a_summary_per_epoch()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(text),
        });
        var model = new TinyNet(3);
        var trainer = new Trainer(new TrainOptions { Epochs = 2, LearningRate = 0.01 });
        trainer.Fit(model, e => Separable(3, 3, 4, e), null, [new ProgressBar(console, interactive: true)]);
        string output = text.ToString();
        Assert.Contains("Epoch 1/2 - ", output);
        Assert.Contains("Epoch 2/2 - ", output);
    }
}
