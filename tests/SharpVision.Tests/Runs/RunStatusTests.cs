using System.Diagnostics;
using SharpVision.Api;
using SharpVision.Runs;
using SharpVision.Tests.TestSupport;
using SharpVision.Training;
using SharpVision.Training.Callbacks;

namespace SharpVision.Tests.Runs;

/// <summary>
/// status.json, the file a dashboard in another process reads to tell running, finished, stopped and crashed runs
/// apart: what training writes, and the rule that a "running" run whose process is gone has crashed.
/// </summary>
[Collection("Global torch RNG")]
public sealed class RunStatusTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-status");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ClassifierTrainOptions Tiny(string run, int epochs = 2) => new()
    {
        Model = "minicnn", ImgSize = 16, Batch = 8, Epochs = epochs, ValSplit = 0.25, Seed = 3, Workers = 0, Lr = 0.01,
        Out = Path.Combine(_dir, run),
    };

    private string Data() => TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 12);

    [Fact]
    public void A_finished_run_says_finished_with_every_epoch_and_one_system_row_per_epoch()
    {
        // Given a tiny run trained from C#
        var run = Classifier.Train(Data(), Tiny("run"));

        // Then its status is finished, by this process, with both epochs, a speed and a memory figure
        var status = RunStatus.Read(run.RunDir)!;
        Assert.Equal(RunState.Finished, status.State);
        Assert.Equal(RunStatus.Classification, status.Task);
        Assert.Equal(Environment.ProcessId, status.Pid);
        Assert.Equal((2, 2), (status.EpochsCompleted, status.Epochs));
        Assert.True(status.ImagesPerSecond > 0, $"images/s {status.ImagesPerSecond}");
        Assert.True(status.MemoryMb > 10, $"memory {status.MemoryMb} MiB");
        Assert.Null(status.Message);
        // and system.csv has epochs 1 and 2, with positive speeds
        var rows = File.ReadAllLines(Path.Combine(run.RunDir, RunMonitor.SystemCsv));
        Assert.Equal("epoch,images_per_second,memory_mb", rows[0]);
        Assert.Equal(["1", "2"], rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.All(rows.Skip(1), r => Assert.True(double.Parse(r.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture) > 0, r));
    }

    [Fact]
    public void A_cancelled_run_says_stopped_and_where()
    {
        // Given a run whose token is cancelled after the first step of epoch 2
        using var cancel = new CancellationTokenSource();
        var events = new TrainEvents { Callbacks = [new CancelAfter(cancel, epoch: 1)] };

        // When it trains, it stops
        Assert.Throws<TrainingCanceledException>(() => Classifier.Train(Data(), Tiny("stopped", epochs: 3), events, cancel.Token));

        // Then status.json says stopped in epoch 2 with one epoch complete
        var status = RunStatus.Of(Path.Combine(_dir, "stopped"));
        Assert.Equal(RunState.Stopped, status.State);
        Assert.Equal(1, status.EpochsCompleted);
        Assert.Contains("stopped in epoch 2", status.Message);
    }

    private sealed class CancelAfter(CancellationTokenSource source, int epoch) : Callback
    {
        private int _epoch;
        public override void OnEpochBegin(int e) => _epoch = e;
        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
        {
            if (_epoch == epoch) source.Cancel();
        }
    }

    [Fact]
    public void Running_is_believed_only_while_the_writing_process_lives()
    {
        // Given a status that says running, written by this (live) process
        string run = Directory.CreateDirectory(Path.Combine(_dir, "live")).FullName;
        var mine = RunStatus.ForThisProcess(RunState.Running, RunStatus.Detection) with { Epochs = 5, EpochsCompleted = 2 };
        mine.Write(run);
        // Then it reads as running
        Assert.Equal(RunState.Running, RunStatus.Of(run).State);
        Assert.Equal(RunStatus.Detection, RunStatus.Of(run).Task);

        // When the same file names a process that has ended (as after SIGKILL or the out-of-memory killer)
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        gone.WaitForExit();
        (mine with { Pid = gone.Id }).Write(run);
        // Then it reads as crashed, saying why
        var crashed = RunStatus.Of(run);
        Assert.Equal(RunState.Crashed, crashed.State);
        Assert.Contains($"process {gone.Id} ended without finishing the run", crashed.Message);
        Assert.Contains("after epoch 2 of 5", crashed.Message);

        // And a live process id with another start time is a recycled id: crashed too
        (mine with { ProcessStart = mine.ProcessStart.AddMinutes(-5) }).Write(run);
        Assert.Equal(RunState.Crashed, RunStatus.Of(run).State);

        // While a file from another host is taken as written (its processes cannot be seen from here)
        (mine with { Pid = gone.Id, Host = "another-host" }).Write(run);
        Assert.Equal(RunState.Running, RunStatus.Of(run).State);
    }

    [Fact]
    public void A_folder_without_status_json_is_judged_by_its_lock_holder()
    {
        // Given a run folder from before status files, held by a process that is gone
        string run = Directory.CreateDirectory(Path.Combine(_dir, "old")).FullName;
        File.WriteAllText(Path.Combine(run, "results.csv"), "epoch,loss\n1,0.5\n");
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        gone.WaitForExit();
        File.WriteAllText(Path.Combine(run, ".lock.holder"), $"process {gone.Id} on {Environment.MachineName}\n");
        // Then it crashed
        Assert.Equal(RunState.Crashed, RunStatus.Of(run).State);

        // When the holder is this process, it is running; when no one holds it, it finished
        File.WriteAllText(Path.Combine(run, ".lock.holder"), $"process {Environment.ProcessId} on {Environment.MachineName}\n");
        Assert.Equal(RunState.Running, RunStatus.Of(run).State);
        File.Delete(Path.Combine(run, ".lock.holder"));
        Assert.Equal(RunState.Finished, RunStatus.Of(run).State);
    }

    [Fact]
    public void A_run_folder_left_saying_running_by_this_process_is_marked_crashed_when_released()
    {
        // Given a run folder whose training failed outside the fit loop, its status still running
        using (var folder = RunFolder.Open(Path.Combine(_dir, "failed")))
            RunStatus.ForThisProcess(RunState.Running, RunStatus.Classification).Write(folder.Path);

        // Then releasing the folder records the crash
        var status = RunStatus.Read(Path.Combine(_dir, "failed"))!;
        Assert.Equal(RunState.Crashed, status.State);
        Assert.Contains("ended by an error", status.Message);
    }
}
