using System.Diagnostics;
using SharpVision.Data.Detection;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>sharpvision detect train --resume RUN</c> in real processes: a run killed after its second epoch continues
/// with the third, every epoch logged once and the losses equal to an uninterrupted run's; runs that cannot be
/// resumed are refused with a message naming what is missing.
/// </summary>
public sealed class DetectResumeTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-detresume");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) RunToEnd(params string[] args)
    {
        var (code, output, error) = CliProcess.Run(args);
        return (code, output + error);
    }

    private static string[] Settings(ShapesResult shapes, string run, int epochs) =>
        Settings(shapes, run, "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string[] Settings(ShapesResult shapes, string run, params string[] schedule) =>
    [
        "detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
        "--model", "yolov3-tiny-quarter", "--img-size", "64", .. schedule,
        "--batch", "4", "--workers", "0", "--seed", "3", "--schedule", "cosine", "--patience", "5", "--jitter", "0.2", "--out", run,
    ];

    [Fact]
    public void Killed_after_epoch_2_then_resumed_logs_epochs_1_to_3_once_with_the_uninterrupted_losses() =>
        KillAfterEpoch2ThenResume("--epochs", "3");

    [Fact]
    public void Fine_tune_run_killed_in_stage_2_resumes_with_the_uninterrupted_losses() =>
        KillAfterEpoch2ThenResume("--fine-tune", "1,2");

    private void KillAfterEpoch2ThenResume(params string[] schedule)
    {
        // Given a tiny shapes set and an uninterrupted 3-epoch run (cosine schedule, early-stopping counters)
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 24, seed: 5, size: 64, valFraction: .25);
        string whole = Path.Combine(_dir, "whole"), killed = Path.Combine(_dir, "killed");
        var (wholeCode, wholeOut) = RunToEnd(Settings(shapes, whole, schedule));
        Assert.True(wholeCode == 0, wholeOut);

        // When the same run is killed (SIGKILL) as soon as epoch 2 is in results.csv, then resumed
        using (var p = CliProcess.Start(Settings(shapes, killed, schedule)))
        {
            string results = Path.Combine(killed, "results.csv");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(results) && File.ReadAllLines(results).Any(l => l.StartsWith("2,", StringComparison.Ordinal))))
            {
                Assert.False(p.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "epoch 2 never ended");
                Thread.Sleep(10);
            }
            p.Kill();
            p.WaitForExit();
        }
        var atKill = File.ReadAllLines(Path.Combine(killed, "results.csv"));
        Assert.DoesNotContain(atKill, l => l.StartsWith("3,", StringComparison.Ordinal));
        var (code, output) = RunToEnd("detect", "train", "--resume", killed);

        // Then results.csv holds epochs 1, 2, 3 exactly once, with the uninterrupted run's losses, mAP and rates
        Assert.True(code == 0, output);
        Assert.Contains("Resuming", output);
        var expected = File.ReadAllLines(Path.Combine(whole, "results.csv"));
        var actual = File.ReadAllLines(Path.Combine(killed, "results.csv"));
        Assert.Equal(new[] { "1", "2", "3" }, actual.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal(expected[0], actual[0]);
        // epoch, loss, loss_xy, loss_wh, loss_obj, loss_cls, val_map50, lr (seconds differ, of course)
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(string.Join(',', expected[i].Split(',')[..8]), string.Join(',', actual[i].Split(',')[..8]));
    }

    [Fact]
    public void Resume_refuses_runs_without_settings_checkpoint_or_state_and_leaves_a_finished_run_alone()
    {
        // Given a finished 1-epoch run
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 8, seed: 5, size: 64, valFraction: .25);
        string done = Path.Combine(_dir, "done");
        var (trainCode, trainOut) = RunToEnd(Settings(shapes, done, 1));
        Assert.True(trainCode == 0, trainOut);
        string results = File.ReadAllText(Path.Combine(done, "results.csv"));

        // When resuming it, and folders missing args.yaml, last.svmodel or the training state in it
        var finished = RunToEnd("detect", "train", "--resume", done);
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var noArgs = RunToEnd("detect", "train", "--resume", empty);
        string noLastDir = Directory.CreateDirectory(Path.Combine(_dir, "nolast")).FullName;
        File.Copy(Path.Combine(done, "args.yaml"), Path.Combine(noLastDir, "args.yaml"));
        var noLast = RunToEnd("detect", "train", "--resume", noLastDir);
        string noStateDir = Directory.CreateDirectory(Path.Combine(_dir, "nostate", "weights")).Parent!.FullName;
        File.Copy(Path.Combine(done, "args.yaml"), Path.Combine(noStateDir, "args.yaml"));
        File.Copy(Path.Combine(done, "weights", "best.svmodel"), Path.Combine(noStateDir, "weights", "last.svmodel")); // best holds no state
        var noState = RunToEnd("detect", "train", "--resume", noStateDir);

        // Then the finished run says so and is unchanged; the others fail naming what is missing
        Assert.True(finished.Code == 0, finished.Output);
        Assert.Contains("already finished (1 of 1 epochs)", finished.Output);
        Assert.Equal(results, File.ReadAllText(Path.Combine(done, "results.csv")));
        Assert.NotEqual(0, noArgs.Code);
        Assert.Contains("args.yaml not found: --resume needs a run folder written by 'sharpvision detect train'", noArgs.Output);
        Assert.NotEqual(0, noLast.Code);
        Assert.Contains("nothing to resume", noLast.Output);
        Assert.Contains("last.svmodel does not exist", noLast.Output);
        Assert.NotEqual(0, noState.Code);
        Assert.Contains("holds no training state", noState.Output);
    }
}
