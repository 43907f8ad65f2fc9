using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using Xunit.Abstractions;

namespace SharpVision.Tests.Faults;

/// <summary>
/// SIGKILL while checkpoints are written never costs a loadable model: a real <c>sharpvision train</c> is killed
/// again and again around its checkpoint writes, and after every kill each model file in the run folder loads.
/// (SIGKILL mid-epoch followed by <c>--resume</c>, with every epoch once in results.csv and the uninterrupted
/// metrics, is <see cref="Cli.ResumeAfterKillTests"/>.)
/// </summary>
public sealed class CheckpointKillTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-ckkill");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Rows(string csv)
    {
        try { return File.Exists(csv) ? File.ReadAllLines(csv).Length - 1 : 0; }
        catch (IOException) { return 0; }
    }

    private static string[] ModelFiles(string run) => Directory.GetFiles(run, "*" + ModelFile.Extension, SearchOption.AllDirectories);

    private static string[] TempFiles(string run) => Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories);

    [Fact]
    public void Sigkill_around_checkpoint_writes_leaves_every_model_file_loadable_and_the_run_resumable()
    {
        // Given a run that saves best and last after every epoch (20 images, 16 px minicnn, short epochs)
        string data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 10);
        string run = Path.Combine(_dir, "run");
        const int epochs = 30; // enough epochs left for six kills even when epochs take a few milliseconds
        string results = Path.Combine(run, "results.csv");
        string weights = Path.Combine(run, "weights");

        // When it is killed right after an epoch's row is logged (the checkpoints are written next) with a sweep of
        // delays, or as soon as a checkpoint's temporary file appears, and resumed after each kill
        int[] delaysMs = [-1, 0, 3, 10, -1, 25];
        int midWrite = 0;
        for (int k = 0; k < delaysMs.Length; k++)
        {
            using var p = k == 0
                ? CliProcess.Start("train", data, "--model", "minicnn", "--img-size", "16", "--epochs", $"{epochs}", "--batch", "8",
                    "--val-split", "0.25", "--workers", "1", "--out", run)
                : CliProcess.Start("train", "--resume", run, "--workers", "1");
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (k == 0) CliProcess.WaitFor(p, () => File.Exists(Path.Combine(weights, "last.svmodel")), "the first checkpoint");
            if (delaysMs[k] < 0)
            {
                CliProcess.WaitFor(p, () => Directory.Exists(weights) && Directory.EnumerateFiles(weights, "*.tmp").Any(), "a checkpoint's temporary file");
            }
            else
            {
                int before = Rows(results);
                CliProcess.WaitFor(p, () => Rows(results) > before, "an epoch to end");
                if (delaysMs[k] > 0) Thread.Sleep(delaysMs[k]);
            }
            CliProcess.KillHard(p);

            // Then every model file there loads (best and last), whatever the kill interrupted
            var files = ModelFiles(run);
            Assert.Contains(Path.Combine(weights, "best.svmodel"), files);
            foreach (var file in files)
            {
                var (config, model) = ModelFile.Load(file);
                Assert.Equal("minicnn", config.Architecture);
                model.Dispose();
            }
            if (TempFiles(run).Length > 0) midWrite++;
        }
        output.WriteLine($"{midWrite} of {delaysMs.Length} kills left a temporary file (killed mid-write)");
        Assert.True(midWrite >= 1, "no kill landed inside a checkpoint write");

        // And the resumed run finishes: every epoch once, no temporary files left behind
        var (code, stdout, stderr) = CliProcess.Run("train", "--resume", run, "--workers", "1");
        Assert.True(code == 0, stdout + stderr);
        var epochColumn = File.ReadAllLines(results).Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(1, epochs), epochColumn);
        Assert.Empty(TempFiles(run));
    }

    [Fact]
    public void A_writer_that_throws_midway_leaves_the_old_file_intact_and_no_temporary_file()
    {
        // Given a complete file
        string path = Path.Combine(_dir, "weights", "best.svmodel");
        AtomicFile.WriteAllText(path, "old complete content");

        // When a new write fails after writing half of its content
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, tmp =>
        {
            File.WriteAllText(tmp, "new half");
            throw new IOException("disk full (simulated)");
        }));

        // Then the error surfaces, the old file is untouched and the folder holds nothing else
        Assert.Equal("disk full (simulated)", e.Message);
        Assert.Equal("old complete content", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void A_model_save_that_throws_midway_leaves_the_previous_model_loadable()
    {
        // Given a saved model
        string path = Path.Combine(_dir, "m.svmodel");
        using var first = new TinyClassifier(2);
        var config = new ModelConfig { Architecture = "tiny", NumClasses = 2, Classes = ["a", "b"], Preprocessing = first.Info.Preprocessing };
        ModelFile.Save(path, first, config);
        byte[] before = File.ReadAllBytes(path);

        // When a second save fails while writing its entries (a reserved extra name is refused mid-zip)
        using var second = new TinyClassifier(2);
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, second, config, new Dictionary<string, byte[]>
        {
            ["state.json"] = [1, 2, 3],
            ["config.json"] = [4],
        }));

        // Then the first model is still there, byte for byte, loadable, with no temporary file beside it
        Assert.Equal(before, File.ReadAllBytes(path));
        var (loaded, model) = ModelFile.Load(path, _ => new TinyClassifier(2));
        Assert.Equal(["a", "b"], loaded.Classes);
        model.Dispose();
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Stale_temporary_files_of_a_killed_writer_are_removed_when_the_run_folder_is_opened_again()
    {
        // Given a run folder in which a killed process left a half-written checkpoint
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(Path.Combine(run, "weights"));
        string litter = Path.Combine(run, "weights", "last.svmodel.99999.tmp");
        File.WriteAllBytes(litter, [0x50, 0x4B, 3, 4]);
        File.WriteAllText(Path.Combine(run, "weights", "notes.tmp"), "not ours");

        // When the run is opened for resuming
        using (SharpVision.Runs.RunFolder.Open(run, resume: true)) { }

        // Then the writer's litter is gone, other files stay
        Assert.False(File.Exists(litter));
        Assert.True(File.Exists(Path.Combine(run, "weights", "notes.tmp")));
    }
}
