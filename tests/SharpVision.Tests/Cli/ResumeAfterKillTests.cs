using System.Diagnostics;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Cli;

/// <summary>
/// A real <c>sharpvision train</c> process killed with SIGKILL mid-epoch, then <c>--resume</c>d: every epoch
/// appears once in results.csv, epochs and learning rates continue, and the metrics equal an uninterrupted run's.
/// </summary>
public class ResumeAfterKillTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-resume");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) RunToEnd(params string[] args)
    {
        var (code, output, error) = CliProcess.Run(args);
        return (code, output + error);
    }

    [Fact]
    public void Sigkill_mid_epoch_then_resume_gives_every_epoch_once_and_the_uninterrupted_metrics()
    {
        // Given a data set and a training with dropout, augmentation, a cosine schedule and plateau callbacks
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 40);
        string[] Settings(string run) =>
        [
            "train", data, "--model", "minicnn", "--img-size", "16", "--epochs", "4", "--batch", "8", "--seed", "11",
            "--augment", "rotation_range=15,horizontal_flip=true", "--schedule", "cosine", "--patience", "3",
            "--reduce-lr-patience", "1", "--log-every", "1", "--workers", "1", "--out", run,
        ];
        string whole = Path.Combine(_dir, "whole"), killed = Path.Combine(_dir, "killed");
        var (wholeCode, wholeOut) = RunToEnd(Settings(whole));
        Assert.True(wholeCode == 0, wholeOut);

        // When a second run is killed with SIGKILL in the middle of epoch 3, then resumed
        using (var p = CliProcess.Start(Settings(killed)))
        {
            string steps = Path.Combine(killed, "steps.csv");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(steps) && File.ReadAllLines(steps).Any(l => l.StartsWith("3,4,", StringComparison.Ordinal))))
            {
                Assert.False(p.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), "epoch 3 never started");
                Thread.Sleep(20);
            }
            p.Kill(); // SIGKILL on Linux: no handlers, no cleanup
            p.WaitForExit();
        }
        int rowsAtKill = File.ReadAllLines(Path.Combine(killed, "results.csv")).Length - 1;
        Assert.InRange(rowsAtKill, 1, 3);
        var (code, output) = RunToEnd("train", "--resume", killed);

        // Then results.csv holds epochs 1..4 exactly once, with the uninterrupted run's numbers
        Assert.True(code == 0, output);
        Assert.Contains("Resuming", output);
        var expected = File.ReadAllLines(Path.Combine(whole, "results.csv"));
        var actual = File.ReadAllLines(Path.Combine(killed, "results.csv"));
        Assert.Equal(5, actual.Length);
        Assert.Equal(new[] { "1", "2", "3", "4" }, actual.Skip(1).Select(l => l.Split(',')[0]));
        // epoch, loss, accuracy, val_loss, val_accuracy, lr: equal to the last digit (seconds differ, of course)
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(string.Join(',', expected[i].Split(',')[..6]), string.Join(',', actual[i].Split(',')[..6]));
        // steps.csv also continues: every (epoch, step) once
        var stepKeys = File.ReadAllLines(Path.Combine(killed, "steps.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..2])).ToList();
        Assert.Equal(stepKeys.Count, stepKeys.Distinct().Count());
    }

    [Fact]
    public void Resume_of_a_finished_run_says_so_and_changes_nothing()
    {
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 8);
        string run = Path.Combine(_dir, "done");
        Assert.Equal(0, RunToEnd("train", data, "--model", "minicnn", "--img-size", "16", "--epochs", "1", "--out", run).Code);
        string before = File.ReadAllText(Path.Combine(run, "results.csv"));

        var (code, output) = RunToEnd("train", "--resume", run);

        Assert.Equal(0, code);
        Assert.Contains("already finished", output);
        Assert.Equal(before, File.ReadAllText(Path.Combine(run, "results.csv")));
    }
}
