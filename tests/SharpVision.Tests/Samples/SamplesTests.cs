using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SharpVision.Data;
using SharpVision.Data.Detection;
using SharpVision.Tests.Packaging;
using SharpVision.Tests.TestSupport;
using Xunit.Abstractions;

namespace SharpVision.Tests.Samples;

// Each test compiles a file-based app (`dotnet run samples/X.cs`: about 20-40 s the first time, cached after) and
// trains in a child process; two at once would only fight over the 2 cores, so they run one after another.
[CollectionDefinition("Samples", DisableParallelization = true)]
public sealed class SamplesCollection;

/// <summary>
/// Issue 10, acceptance 2: every sample in samples/ runs as a user runs it, `dotnet run samples/X.cs -- DATA ...`, on
/// tiny generated data for 1-2 epochs, and prints its result in a line the test parses. Running it also proves the
/// sample gets the repository's native fix-ups (rewritten TorchSharp.dll, patched libLibTorchSharp.so): without the
/// patch libtorch does not load on Debian 12 and the sample exits non-zero.
/// </summary>
[Collection("Samples")]
public sealed class SamplesTests(ITestOutputHelper output) : IDisposable
{
    private const int MaxSampleLines = 40;
    private readonly string _dir = TestImages.TempDir("sv-samples");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SampleFact]
    public void Every_sample_is_under_40_lines_and_has_a_test()
    {
        var samples = Directory.GetFiles(SamplesDir, "*.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["dogs_vs_cats.cs", "resnet_transfer.cs", "small_convnet.cs", "yolov3_annotations.cs"], samples);
        foreach (var sample in samples)
        {
            var lines = File.ReadAllLines(Path.Combine(SamplesDir, sample!));
            Assert.True(lines.Length < MaxSampleLines, $"{sample} has {lines.Length} lines");
            Assert.Equal("#:project ../src/SharpVision/SharpVision.csproj", lines[0]);
        }
    }

    [SampleFact]
    [Trait("Category", "Slow")]
    public void Small_convnet_trains_from_scratch_and_prints_test_accuracy()
    {
        // Given a folder per class with train/ and test/ (digits 0 and 1 as two classes), no validation/ folder
        string data = Path.Combine(_dir, "small");
        // (100 a class: with 30 the heavy augmentation leaves 2 epochs at chance; 100 reach 0.95-1.0 in 2-3 epochs)
        CopyDigits(Path.Combine(data, "train"), ("0", "zero", 0, 100), ("1", "one", 0, 100));
        CopyDigits(Path.Combine(data, "test"), ("0", "zero", 100, 20), ("1", "one", 100, 20));

        // When the sample runs for 2 epochs at 48 px with its own learning rate
        string text = RunSample("small_convnet.cs", data, "--epochs", "2", "--img-size", "48");

        // Then it printed both epochs, the curves it drew and a test accuracy well above chance (0.5)
        Assert.Contains("epoch 2: loss ", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Value(text, "curves")));
        Assert.True(File.Exists(Value(text, "model")));
        Assert.InRange(Number(text, "test accuracy"), 0.75, 1);
    }

    [SampleFact]
    [Trait("Category", "Slow")]
    public void Dogs_vs_cats_trains_on_file_name_labels_and_writes_a_submission()
    {
        // Given train/cat.N.png and train/dog.N.png (digits 0 and 1) and a flat test1/ of numbered images
        string data = Path.Combine(_dir, "dogs-vs-cats");
        var cats = DigitFiles("0").ToList();
        var dogs = DigitFiles("1").ToList();
        Directory.CreateDirectory(Path.Combine(data, "train"));
        Directory.CreateDirectory(Path.Combine(data, "test1"));
        for (int i = 0; i < 30; i++)
        {
            File.Copy(cats[i], Path.Combine(data, "train", $"cat.{i}.png"));
            File.Copy(dogs[i], Path.Combine(data, "train", $"dog.{i}.png"));
        }
        for (int i = 0; i < 5; i++)
        {
            File.Copy(cats[30 + i], Path.Combine(data, "test1", $"{2 * i + 1}.png"));
            File.Copy(dogs[30 + i], Path.Combine(data, "test1", $"{2 * i + 2}.png"));
        }

        // When the sample runs for 2 epochs
        string text = RunSample("dogs_vs_cats.cs", data, "--epochs", "2", "--img-size", "48");

        // Then it reports a validation accuracy and a Kaggle submission: id,label with P(dog) for ids 1..10 in order
        Assert.InRange(Number(text, "val_accuracy"), 0, 1);
        string csv = Regex.Match(text, @"^submission: (.+) \(10 rows\)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.True(File.Exists(csv), text);
        var rows = File.ReadAllLines(csv);
        Assert.Equal("id,label", rows[0]);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)), rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.All(rows.Skip(1), r => Assert.InRange(double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture), 0, 1));
    }

    [SampleFact]
    [Trait("Category", "Slow")]
    public void Resnet_transfer_fine_tunes_the_imagenet_resnet_in_two_stages()
    {
        // Given four classes in train/ and validation/ (flow_from_directory's layout), a few images each
        string data = Path.Combine(_dir, "four");
        var classes = new[] { "0", "1", "2", "3" };
        CopyDigits(Path.Combine(data, "train"), classes.Select(d => (d, "digit" + d, 0, 12)).ToArray());
        CopyDigits(Path.Combine(data, "validation"), classes.Select(d => (d, "digit" + d, 12, 6)).ToArray());

        // When the sample runs one frozen epoch and one fine-tuning epoch at 64 px
        string text = RunSample("resnet_transfer.cs", data, "--frozen", "1", "--unfrozen", "1", "--img-size", "64");

        // Then both stages ran (ResNet-18 from the offline ImageNet package) and it scored the validation folder
        Assert.Contains("resnet18-mlnet", text, StringComparison.Ordinal);
        Assert.Contains("epoch 1: loss ", text, StringComparison.Ordinal);
        Assert.Contains("epoch 2: loss ", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Value(text, "curves")));
        Assert.InRange(Number(text, "test accuracy"), 0, 1);
    }

    [SampleFact]
    [Trait("Category", "Slow")]
    public void Yolov3_trains_on_annotation_lines_and_prints_map()
    {
        // Given generated shapes as keras-yolo3 annotation lines: train.txt, val.txt, classes.txt
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 8, seed: 2, size: 64, valFraction: .34);

        // When the sample trains the smallest registered YOLOv3 for one epoch at 64 px
        string text = RunSample("yolov3_annotations.cs", Path.GetDirectoryName(shapes.TrainFile)!,
            "--model", "yolov3-tiny-quarter", "--frozen", "0", "--unfrozen", "1", "--img-size", "64");

        // Then it printed the COCO and VOC mAP of the validation lines and the model it scored
        var result = Regex.Match(text, @"^mAP50: (\S+)  VOC07 mAP: (\S+)  model: (.+)$", RegexOptions.Multiline);
        Assert.True(result.Success, text);
        Assert.InRange(double.Parse(result.Groups[1].Value, CultureInfo.InvariantCulture), 0, 1);
        Assert.InRange(double.Parse(result.Groups[2].Value, CultureInfo.InvariantCulture), 0, 1);
        Assert.True(File.Exists(result.Groups[3].Value));
    }

    internal static string SamplesDir => Path.Combine(PackageBuild.RepositoryRoot!, "samples");

    private IEnumerable<string> DigitFiles(string digit)
    {
        string export = Path.Combine(_dir, "digits");
        if (!Directory.Exists(export)) Digits.Export(export);
        return Directory.GetFiles(Path.Combine(export, "train", digit)).Order(StringComparer.Ordinal);
    }

    /// <summary>Copies <c>count</c> digit images from position <c>skip</c> into <paramref name="dir"/>/<c>name</c>/.</summary>
    private void CopyDigits(string dir, params (string Digit, string Name, int Skip, int Count)[] classes)
    {
        foreach (var (digit, name, skip, count) in classes)
        {
            Directory.CreateDirectory(Path.Combine(dir, name));
            foreach (var file in DigitFiles(digit).Skip(skip).Take(count))
                File.Copy(file, Path.Combine(dir, name, Path.GetFileName(file)));
        }
    }

    /// <summary>`dotnet run -c Release samples/NAME -- DATA ARGS` in a temporary working folder (runs/ goes there).</summary>
    private string RunSample(string name, string data, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        foreach (var a in new[] { "run", "-c", "Release", "--disable-build-servers", Path.Combine(SamplesDir, name), "--", data }.Concat(args))
            info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var before = RunfileBuilds(name);
        using var cleanup = new Disposer(() => DeleteNewBuilds(name, before));
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} did not finish in 10 minutes\n{stdout.Result}\n{stderr.Result}");
        }
        p.WaitForExit();
        string text = stdout.Result;
        output.WriteLine($"$ dotnet {string.Join(' ', info.ArgumentList)}  ({clock.Elapsed.TotalSeconds:0} s)\n{text}");
        Assert.True(p.ExitCode == 0, $"{name} exited with {p.ExitCode}:\n{text}\n{stderr.Result}");
        return text;
    }

    // `dotnet run FILE.cs` builds into ~/.local/share/dotnet/runfile/<name>-<hash> (about 1.3 GB with libtorch), a new
    // folder for each checkout and test run that is never removed: 47 of them had filled a 94 GB disk. Each test deletes
    // the build folders its run created.
    private static string RunfileRoot => Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg ? xdg
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "dotnet", "runfile");

    private static HashSet<string> RunfileBuilds(string name)
    {
        string stem = Path.GetFileNameWithoutExtension(name) + "-";
        return Directory.Exists(RunfileRoot)
            ? Directory.GetDirectories(RunfileRoot).Where(d => Path.GetFileName(d).StartsWith(stem, StringComparison.OrdinalIgnoreCase)).ToHashSet()
            : [];
    }

    private static void DeleteNewBuilds(string name, HashSet<string> before)
    {
        foreach (var dir in RunfileBuilds(name).Except(before))
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>The rest of the line <c>label: value</c>.</summary>
    private static string Value(string text, string label)
    {
        var match = Regex.Match(text, $"^{Regex.Escape(label)}: (.+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{label}: ' line in:\n{text}");
        return match.Groups[1].Value.TrimEnd('\r');
    }

    /// <summary>The number at the start of the line <c>label: 0.1234 ...</c>.</summary>
    private static double Number(string text, string label) =>
        double.Parse(Value(text, label).Split(' ')[0], CultureInfo.InvariantCulture);
}

/// <summary>A fact that runs where the samples and `dotnet` are (a checkout), and says why it skips otherwise.</summary>
public sealed class SampleFactAttribute : FactAttribute
{
    public SampleFactAttribute()
    {
        if (PackageBuild.CannotPackReason is { } reason) Skip = reason.Replace("to pack", "to run", StringComparison.Ordinal);
    }
}
