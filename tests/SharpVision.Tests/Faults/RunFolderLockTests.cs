using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Faults;

/// <summary>
/// Two real <c>sharpvision train</c> processes pointed at one <c>--out</c>: the second refuses, naming the folder
/// and the process holding it; once the first is SIGKILLed, its leftover <c>.lock</c> file does not block
/// <c>--resume</c> (the lock is an OS lock, released with the process).
/// </summary>
public sealed class RunFolderLockTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-lock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Second_training_on_the_same_out_is_refused_naming_folder_and_holder_and_a_killed_holder_does_not_block_resume()
    {
        // Given a training run in progress, long enough to still be running while two more processes start and are
        // refused (about 2 s each): 20 epochs of 80 images at 48 px (at 16 px with 20 images a quiet machine finished
        // the whole run first, and with glibc's malloc tuned 8 epochs came close), at minicnn's former width 16: at 32 the
        // run does four times the work, and its --resume outlasted CliProcess' 3 minutes at load average 10)
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 40);
        string run = Path.Combine(_dir, "run");
        string[] args = ["train", data, "--model", "minicnn", "--width", "16", "--img-size", "48", "--epochs", "20", "--batch", "4", "--workers", "1", "--out", run];
        using var first = CliProcess.Start(args);
        _ = first.StandardOutput.ReadToEndAsync();
        _ = first.StandardError.ReadToEndAsync();
        CliProcess.WaitFor(first, () => File.Exists(Path.Combine(run, "args.yaml")), "the first run to take its folder");

        // When a second training (told it may write into an existing folder) and a --resume target the same folder
        var second = CliProcess.Run([.. args, "--exist-ok"]);
        var resume = CliProcess.Run("train", "--resume", run, "--workers", "1");

        // Then both refuse with exit code 1, naming the folder and the first process, without a stack trace
        Assert.False(first.HasExited, "the first run ended before the second one was refused; the test proves nothing");
        foreach (var (code, stdout, stderr) in new[] { second, resume })
        {
            Assert.True(code == 1, stdout + stderr);
            Assert.True(stderr.Contains($"error: --out {run} is in use by another training run (process {first.Id} on {Environment.MachineName} holds {Path.Combine(run, ".lock")})"), stderr);
            Assert.DoesNotContain("   at ", stderr);
        }

        // When the first run is SIGKILLed after a checkpoint, leaving its .lock file behind, and then resumed
        CliProcess.WaitFor(first, () => File.Exists(Path.Combine(run, "weights", "last.svmodel")), "the first checkpoint");
        CliProcess.KillHard(first);
        Assert.True(File.Exists(Path.Combine(run, ".lock")));
        var resumed = CliProcess.Run("train", "--resume", run, "--workers", "1");

        // Then the resume takes the folder and finishes the 20 epochs
        Assert.True(resumed.Code == 0, resumed.Out + resumed.Error);
        Assert.Contains("Resuming", resumed.Out);
        Assert.Equal(20, File.ReadAllLines(Path.Combine(run, "results.csv")).Length - 1);
        Assert.False(File.Exists(Path.Combine(run, ".lock")));
        Assert.False(File.Exists(Path.Combine(run, ".lock.holder")));
    }
}
