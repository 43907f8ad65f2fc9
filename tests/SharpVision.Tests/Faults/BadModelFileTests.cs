using System.IO.Compression;
using SharpVision.Tests.TestSupport;
using Sv = SharpVision.Tests.Cli.Cli;

namespace SharpVision.Tests.Faults;

/// <summary>
/// Broken model files given to every command that reads one (<c>evaluate</c>, <c>predict</c>,
/// <c>train --weights</c>, <c>train --resume</c>): a file whose config names another architecture than its
/// weights, a truncated file and a text file named .svmodel. Each gives one clear error line naming the file,
/// exit code 1 and no stack trace (the trace only with --verbose).
/// </summary>
[Collection("Console")]
public sealed class BadModelFileTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-badmodel");
    private readonly string _data;
    private readonly string _run;
    private readonly string _good;

    public BadModelFileTests()
    {
        // Given a small data set and a 1-epoch minicnn run whose args.yaml is changed to 3 epochs (so it can resume)
        _data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 4);
        _run = Path.Combine(_dir, "run");
        var r = Sv.Run("train", _data, "--model", "minicnn", "--img-size", "16", "--epochs", "1", "--val-split", "0", "--out", _run);
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        string args = Path.Combine(_run, "args.yaml");
        File.WriteAllText(args, File.ReadAllText(args).Replace("epochs: 1\n", "epochs: 3\n"));
        _good = Path.Combine(_run, "weights", "last.svmodel");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A copy of the run's last checkpoint whose config.json says smallcnn (its weights are minicnn's).</summary>
    private string OtherArchitecture()
    {
        string path = Path.Combine(_dir, "relabelled.svmodel");
        File.Copy(_good, path, overwrite: true);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry("config.json")!;
        string json;
        using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
        entry.Delete();
        using var writer = new StreamWriter(zip.CreateEntry("config.json").Open());
        writer.Write(json.Replace("\"minicnn\"", "\"smallcnn\""));
        return path;
    }

    private string Truncated()
    {
        string path = Path.Combine(_dir, "truncated.svmodel");
        byte[] bytes = File.ReadAllBytes(_good);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        return path;
    }

    private string NotAZip()
    {
        string path = Path.Combine(_dir, "notes.svmodel");
        File.WriteAllText(path, "these are my notes, not a model\n");
        return path;
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string file in new[] { "other-architecture", "truncated", "not-a-zip" })
            foreach (string command in new[] { "evaluate", "predict", "train --weights", "train --resume" })
                data.Add(file, command);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Broken_model_file_gives_one_clear_error_naming_it_and_exit_code_1(string file, string command)
    {
        string bad = file switch { "other-architecture" => OtherArchitecture(), "truncated" => Truncated(), _ => NotAZip() };
        string image = Directory.GetFiles(Path.Combine(_data, "red"))[0];
        string named = bad;
        if (command == "train --resume")
        {
            // The run's resumable checkpoint is the broken file
            File.Copy(bad, _good, overwrite: true);
            named = _good;
        }

        var r = command switch
        {
            "evaluate" => Sv.Run("evaluate", bad, _data, "--out", Path.Combine(_dir, "eval")),
            "predict" => Sv.Run("predict", bad, image),
            "train --weights" => Sv.Run("train", _data, "--model", "minicnn", "--img-size", "16", "--epochs", "1", "--weights", bad, "--out", Path.Combine(_dir, "w")),
            _ => Sv.Run("train", "--resume", _run),
        };

        Assert.Equal(1, r.ExitCode);
        string[] lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Error);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("Exception", lines[0]);
        string why = file switch
        {
            "other-architecture" => "its config cannot be built as a smallcnn",
            _ => "not a SharpVision model file (expected a .svmodel zip; it is corrupt or truncated)",
        };
        Assert.Contains(why, lines[0]);
    }

    [Fact]
    public void A_valid_model_of_another_architecture_given_to_train_weights_names_both_architectures()
    {
        var r = Sv.Run("train", _data, "--model", "smallcnn", "--img-size", "64", "--epochs", "1", "--weights", _good, "--out", Path.Combine(_dir, "w"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: --weights {_good} is a minicnn with 1 output(s); this run builds a smallcnn with 1.", r.Error.Trim());
    }

    [Fact]
    public void Verbose_adds_the_stack_trace_to_the_same_error()
    {
        string bad = Truncated();

        var r = Sv.Run("evaluate", bad, _data, "--out", Path.Combine(_dir, "eval"), "--verbose");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: {bad}: not a SharpVision model file", r.Error);
        Assert.Contains("   at SharpVision.Weights.ModelFile", r.Error);
    }
}
