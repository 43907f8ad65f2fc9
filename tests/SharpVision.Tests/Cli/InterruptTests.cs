using SharpVision.Evaluation.Detection;
using System.Diagnostics;
using SharpVision.Data.Detection;
using SharpVision.Models;
using SharpVision.Tests.TestSupport;
using SharpVision.Training;
using SharpVision.Weights;

namespace SharpVision.Tests.Cli;

/// <summary>
/// Real signals to a real <c>sharpvision</c> process: the first Ctrl+C (SIGINT) or SIGTERM stops training between
/// two steps, keeps every completed epoch's files, saves weights/interrupted.svmodel, releases the run lock, prints
/// the --resume command and exits 130 (143 for SIGTERM); a second Ctrl+C ends the process at once.
/// </summary>
[Collection("Console")]
public sealed class InterruptTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-interrupt");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Rows(string csv) => File.Exists(csv) ? File.ReadAllLines(csv).Skip(1).Count(l => l.Length > 0) : 0;

    // Long enough that the signal, sent once epoch 1 is logged, lands well before the last epoch ends, however fast
    // the machine (with glibc's malloc tuned a 16 px 4-epoch run takes about a second).
    private const int Epochs = 12;

    private string[] TrainArgs(string run, params string[] extra) =>
    [
        "train", TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 40), "--model", "minicnn", "--img-size", "32",
        "--epochs", Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "8", "--seed", "1", "--workers", "1", "--out", run, .. extra,
    ];

    private static string[] Numbers(int n) => Enumerable.Range(1, n).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Every file a stopped run keeps: completed rows, loadable checkpoints, no lock; returns the row count.</summary>
    private static int AssertStoppedRunIsWhole(string run, string output)
    {
        int rows = Rows(Path.Combine(run, "results.csv"));
        Assert.True(rows >= 1, output);
        Assert.Equal(Enumerable.Range(1, rows).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            File.ReadAllLines(Path.Combine(run, "results.csv")).Skip(1).Select(l => l.Split(',')[0]));
        string interrupted = Path.Combine(run, "weights", "interrupted.svmodel");
        var state = TrainingState.FromJson(ModelFile.ReadEntry(interrupted, TrainingState.Entry)!, interrupted);
        Assert.Equal(rows, state.EpochsCompleted);
        Assert.NotNull(state.InterruptedAtStep);
        Assert.NotNull(ModelFile.ReadEntry(interrupted, TrainingState.OptimizerEntry));
        Assert.Equal(rows, TrainingState.FromJson(ModelFile.ReadEntry(Path.Combine(run, "weights", "last.svmodel"), TrainingState.Entry)!, "last").EpochsCompleted);
        Assert.False(File.Exists(Path.Combine(run, ".lock")), "the run lock is still there");
        return rows;
    }

    [Fact]
    public void Sigint_after_epoch_1_keeps_the_finished_epochs_saves_the_interrupted_weights_and_resume_finishes()
    {
        // Given a 12-epoch training run that has logged epoch 1
        string run = Path.Combine(_dir, "run");
        using var child = new CliChild(TrainArgs(run));
        CliProcess.WaitFor(child.Process, () => Rows(Path.Combine(run, "results.csv")) >= 1, "epoch 1 in results.csv");

        // When it gets Ctrl+C (SIGINT)
        CliProcess.Signal(child.Process, CliProcess.SigInt);
        int code = child.WaitForExit(30);

        // Then it exits 130 naming the resume command, with whole files for the epochs it finished
        string output = child.Output;
        Assert.True(code == 130, $"exit {code}:\n{output}");
        Assert.Contains("Interrupted by SIGINT", output);
        Assert.Contains($"sharpvision train --resume {run}", output);
        int rows = AssertStoppedRunIsWhole(run, output);
        Assert.InRange(rows, 1, Epochs - 1);
        foreach (string name in new[] { "last", "interrupted", "best" })
        {
            var (config, model) = ModelFile.Load(Path.Combine(run, "weights", name + ModelFile.Extension));
            Assert.Equal(TestImages.Classes.Length, config.Classes.Count);
            model.Dispose();
        }

        // And --resume continues from last.svmodel to the end: every epoch once, the stale interrupted weights gone
        var (resumeCode, resumeOut, resumeError) = CliProcess.Run("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeOut + resumeError);
        Assert.Contains($"Resuming {run} after epoch {rows} of {Epochs}", resumeOut);
        Assert.Equal(Numbers(Epochs), File.ReadAllLines(Path.Combine(run, "results.csv")).Skip(1).Select(l => l.Split(',')[0]));
        Assert.False(File.Exists(Path.Combine(run, "weights", "interrupted.svmodel")));
    }

    [Fact]
    public void Sigterm_stops_training_the_same_way_with_exit_code_143()
    {
        // Given a training run that has logged epoch 1
        string run = Path.Combine(_dir, "run");
        using var child = new CliChild(TrainArgs(run));
        CliProcess.WaitFor(child.Process, () => Rows(Path.Combine(run, "results.csv")) >= 1, "epoch 1 in results.csv");

        // When it gets SIGTERM (docker stop, systemd, kill)
        CliProcess.Signal(child.Process, CliProcess.SigTerm);
        int code = child.WaitForExit(30);

        // Then
        string output = child.Output;
        Assert.True(code == 143, $"exit {code}:\n{output}");
        Assert.Contains("Interrupted by SIGTERM", output);
        Assert.Contains($"sharpvision train --resume {run}", output);
        AssertStoppedRunIsWhole(run, output);
    }

    [Fact]
    public void Second_sigint_ends_the_process_at_once_without_the_orderly_stop()
    {
        // Given a training run in its first epoch whose steps and checkpoints take a while (resnet18)
        string run = Path.Combine(_dir, "run");
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 20);
        using var child = new CliChild("train", data, "--model", "resnet18", "--img-size", "64", "--batch", "16", "--epochs", "30",
            "--workers", "1", "--log-every", "1", "--out", run);
        CliProcess.WaitFor(child.Process, () => Rows(Path.Combine(run, "steps.csv")) >= 1, "a step in steps.csv");

        // When Ctrl+C is pressed, and again once the first one is acknowledged (two signals sent together would
        // reach the process as one: the kernel keeps one pending SIGINT)
        CliProcess.Signal(child.Process, CliProcess.SigInt);
        CliProcess.WaitFor(child.Process, () => child.Output.Contains("stopping after the current step"), "the first Ctrl+C's message");
        var clock = Stopwatch.StartNew();
        CliProcess.Signal(child.Process, CliProcess.SigInt);
        int code = child.WaitForExit(10);

        // Then the process is gone at once (killed by the second SIGINT: 128 + 2), before the orderly stop finished
        string output = child.Output;
        Assert.True(code == 130, $"exit {code}:\n{output}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.DoesNotContain("Interrupted by", output);
        Assert.False(File.Exists(Path.Combine(run, "weights", "interrupted.svmodel")));
    }

    [Fact]
    public void Detect_train_sigint_keeps_the_finished_epochs_and_resume_finishes()
    {
        // Given a tiny shapes detector run (12 epochs) that has logged epoch 1
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 24, seed: 5, size: 64, valFraction: .25);
        string run = Path.Combine(_dir, "det");
        using var child = new CliChild("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--epochs", Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "4", "--workers", "0", "--seed", "3", "--out", run);
        CliProcess.WaitFor(child.Process, () => Rows(Path.Combine(run, "results.csv")) >= 1, "epoch 1 in results.csv");

        // When it gets Ctrl+C
        CliProcess.Signal(child.Process, CliProcess.SigInt);
        int code = child.WaitForExit(30);

        // Then it exits 130 with the detect resume command and whole files; the detector checkpoints load
        string output = child.Output;
        Assert.True(code == 130, $"exit {code}:\n{output}");
        Assert.Contains($"sharpvision detect train --resume {run}", output);
        int rows = AssertStoppedRunIsWhole(run, output);
        Assert.InRange(rows, 1, Epochs - 1);
        foreach (string name in new[] { "last", "interrupted" })
        {
            var (config, model) = ModelFile.LoadModule(Path.Combine(run, "weights", name + ModelFile.Extension), YoloDetector.Build);
            Assert.Equal(3, config.Classes.Count);
            model.Dispose();
        }

        // And --resume finishes the run
        var (resumeCode, resumeOut, resumeError) = CliProcess.Run("detect", "train", "--resume", run);
        Assert.True(resumeCode == 0, resumeOut + resumeError);
        Assert.Equal(Numbers(Epochs), File.ReadAllLines(Path.Combine(run, "results.csv")).Skip(1).Select(l => l.Split(',')[0]));
    }
}
