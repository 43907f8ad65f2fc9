using System.Globalization;
using SharpVision.Imaging;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>predict --engine auto|torch|onnxruntime</c>: a run folder runs on ONNX Runtime through its cached export
/// (weights/best.onnx) with TorchSharp's answers, auto times both and says which it kept, and a .onnx file cannot run on torch.
/// </summary>
[Collection("Console")]
public sealed class PredictEngineTests(CliFixture fx) : IDisposable
{
    private readonly string _dir = Path.Combine(fx.Root, "engine-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A run folder holding the fixture's three-class model as weights/best.svmodel (all that predict reads).</summary>
    private string RunFolder()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(Path.Combine(run, "weights"));
        File.Copy(fx.ThreeClassModel, Path.Combine(run, "weights", "best.svmodel"));
        return run;
    }

    /// <summary>Photo-sized JPEGs (a 32 px model decodes them at a reduced DCT scale) of each class, plus one PNG.</summary>
    private string Images()
    {
        string dir = Path.Combine(_dir, "images");
        Directory.CreateDirectory(dir);
        for (int i = 0; i < 6; i++)
            ImageEncoder.SaveJpeg(CliFixture.Image(i % 3, 900 + i, 200, 150), Path.Combine(dir, $"photo_{i}.jpg"), quality: 90);
        ImageEncoder.SavePng(CliFixture.Image(2, 950, 40, 40), Path.Combine(dir, "small.png"));
        return dir;
    }

    /// <summary>file -> (label, per-class probabilities) from a <c>--probabilities</c> CSV.</summary>
    private static Dictionary<string, (string Label, double[] P)> Read(string csv)
    {
        var lines = File.ReadAllLines(csv).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();
        int first = Array.FindIndex(lines[0], h => h.StartsWith("p_", StringComparison.Ordinal));
        return lines.Skip(1).ToDictionary(row => Path.GetFileName(row[0]),
            row => (row[1], row[first..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()));
    }

    [Fact]
    public void Onnxruntime_engine_on_a_run_folder_gives_torch_top1_and_probabilities()
    {
        // Given a run folder and JPEGs
        string run = RunFolder();
        string images = Images();
        string torchCsv = Path.Combine(_dir, "torch.csv"), onnxCsv = Path.Combine(_dir, "onnx.csv");

        // When predicting on each engine
        var byTorch = Cli.Run("predict", run, images, "--engine", "torch", "--probabilities", "--out", torchCsv, "--workers", "1");
        var byOnnx = Cli.Run("predict", run, images, "--engine", "onnxruntime", "--probabilities", "--out", onnxCsv, "--workers", "1");

        // Then ONNX Runtime ran the export it wrote next to the weights
        Assert.True(byTorch.ExitCode == 0, byTorch.Error);
        Assert.True(byOnnx.ExitCode == 0, byOnnx.Error);
        string cache = Path.Combine(run, "weights", "best.onnx");
        Assert.True(File.Exists(cache), "no weights/best.onnx");
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "weights"), "*.tmp"));
        Assert.Contains($"to {cache} for ONNX Runtime", byOnnx.Out);
        Assert.DoesNotContain("for ONNX Runtime", byTorch.Out);
        // and every image has the same best class and the same probabilities (the CSV's 6 decimals)
        var expected = Read(torchCsv);
        var actual = Read(onnxCsv);
        Assert.Equal(7, expected.Count);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (file, (label, p)) in expected)
        {
            Assert.Equal(label, actual[file].Label);
            double diff = p.Zip(actual[file].P, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff <= 2e-6, $"{file}: torch [{string.Join(", ", p)}] vs onnxruntime [{string.Join(", ", actual[file].P)}]");
        }
        // and the answers are the model's, not a constant (photo_i is of class i % 3)
        string[] classes = ["cat", "dog", "fox"];
        for (int i = 0; i < 6; i++) Assert.Equal(classes[i % 3], actual[$"photo_{i}.jpg"].Label);
    }

    [Fact]
    public void Auto_engine_prints_its_choice_with_both_speeds_and_writes_predictions()
    {
        string run = RunFolder();
        string images = Images();
        string csv = Path.Combine(_dir, "auto.csv");

        var r = Cli.Run("predict", run, images, "--engine", "auto", "--batch", "4", "--out", csv, "--workers", "1");

        Assert.True(r.ExitCode == 0, r.Error);
        var choice = r.Out.Split('\n').Where(l => l.StartsWith("Engine: ", StringComparison.Ordinal)).ToList();
        Assert.Single(choice);
        Assert.Matches(@"^Engine: (torch|onnxruntime) \(--engine auto: torch \d+\.\d img/s, onnxruntime \d+\.\d img/s on a batch of 4 images of the input; probabilities agree within \d\.\de[-+]\d+\)$",
            choice[0].TrimEnd());
        // The line names the faster one.
        var speeds = System.Text.RegularExpressions.Regex.Matches(choice[0], @"(\d+\.\d) img/s").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.StartsWith(speeds[1] > speeds[0] ? "Engine: onnxruntime" : "Engine: torch", choice[0]);
        Assert.Contains("Wrote 7 predictions to", r.Out);
        Assert.Equal(8, File.ReadAllLines(csv).Count(l => l.Length > 0));
    }

    [Fact]
    public void Auto_engine_on_an_onnx_file_says_onnxruntime_without_measuring()
    {
        string onnx = Path.Combine(_dir, "model.onnx");
        Assert.Equal(0, Cli.Run("export", RunFolder(), "--out", onnx).ExitCode);

        var r = Cli.Run("predict", onnx, Images(), "--engine", "auto");

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Engine: onnxruntime (--engine auto: an .onnx model runs on ONNX Runtime only; nothing to compare)", r.Out);
    }

    [Fact]
    public void Torch_engine_on_an_onnx_file_is_refused_naming_the_flag()
    {
        // Given an exported model
        string onnx = Path.Combine(_dir, "model.onnx");
        var export = Cli.Run("export", RunFolder(), "--out", onnx);
        Assert.True(export.ExitCode == 0, export.Error);

        // When asking torch to run it
        var r = Cli.Run("predict", onnx, Images(), "--engine", "torch");

        // Then one line says why and what to give instead (exit code 1, as every option error)
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: --engine must be onnxruntime or auto for an .onnx model (TorchSharp cannot run an ONNX graph;", r.Error);
        Assert.Contains($"Received: --engine=torch with MODEL {onnx}", r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Cached_export_is_reused_while_newer_and_written_again_when_the_svmodel_is_newer()
    {
        // Given a first onnxruntime run, which exports
        string run = RunFolder();
        string images = Images();
        string svmodel = Path.Combine(run, "weights", "best.svmodel"), cache = Path.Combine(run, "weights", "best.onnx");
        var first = Cli.Run("predict", run, images, "--engine", "onnxruntime");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("Exported ", first.Out);

        // When the export is newer than the weights
        var now = DateTime.UtcNow;
        File.SetLastWriteTimeUtc(svmodel, now.AddHours(-2));
        File.SetLastWriteTimeUtc(cache, now.AddHours(-1));
        var second = Cli.Run("predict", run, images, "--engine", "onnxruntime");

        // Then it is used as it is
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.DoesNotContain("Exported ", second.Out);
        Assert.Equal(now.AddHours(-1), File.GetLastWriteTimeUtc(cache));

        // When the weights change after the export
        File.SetLastWriteTimeUtc(svmodel, now.AddMinutes(-30));
        var third = Cli.Run("predict", run, images, "--engine", "onnxruntime");

        // Then it is exported again
        Assert.True(third.ExitCode == 0, third.Error);
        Assert.Contains("Exported ", third.Out);
        Assert.True(File.GetLastWriteTimeUtc(cache) > now.AddMinutes(-30), $"best.onnx written at {File.GetLastWriteTimeUtc(cache):O}");
    }

    [Fact]
    public void Cached_export_of_another_model_is_replaced_even_when_newer()
    {
        // Given a run folder whose weights/best.onnx, newer than best.svmodel, is the two-class model's export
        string run = RunFolder();
        string cache = Path.Combine(run, "weights", "best.onnx");
        var other = Cli.Run("export", fx.BinaryModel, "--out", cache);
        Assert.True(other.ExitCode == 0, other.Error);
        File.SetLastWriteTimeUtc(Path.Combine(run, "weights", "best.svmodel"), DateTime.UtcNow.AddHours(-1));
        string csv = Path.Combine(_dir, "preds.csv");

        // When predicting on ONNX Runtime
        var r = Cli.Run("predict", run, Images(), "--engine", "onnxruntime", "--probabilities", "--out", csv);

        // Then the run's own model was exported over it and answered with its three classes
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Exported ", r.Out);
        Assert.Equal(["file", "label", "score", "p_cat", "p_dog", "p_fox"], File.ReadLines(csv).First().Split(','));
        Assert.Equal("fox", Read(csv)["small.png"].Label);
    }

    [Fact]
    public void Export_that_cannot_be_written_runs_from_memory_with_a_note()
    {
        // Given a run folder where weights/best.onnx cannot be a file (a folder of that name is in the way)
        string run = RunFolder();
        Directory.CreateDirectory(Path.Combine(run, "weights", "best.onnx"));
        string csv = Path.Combine(_dir, "preds.csv");

        var r = Cli.Run("predict", run, Images(), "--engine", "onnxruntime", "--out", csv);

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("note: cannot write ", r.Error);
        Assert.Contains("ONNX Runtime runs an export made in memory", r.Error);
        Assert.Contains("Wrote 7 predictions to", r.Out);
    }
}
