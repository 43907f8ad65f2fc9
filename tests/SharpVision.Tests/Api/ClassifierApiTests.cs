using System.Globalization;
using SharpVision.Api;
using SharpVision.Runs;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Api;

/// <summary>The C# face of <c>sharpvision train / predict / evaluate</c>: same run folder, same numbers, no CLI involved.</summary>
[Collection("Global torch RNG")]
public sealed class ClassifierApiTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-api");
    private readonly string _data;

    public ClassifierApiTests() => _data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 12);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ClassifierTrainOptions Tiny(string run) => new()
    {
        Model = "minicnn", ImgSize = 16, Batch = 8, Epochs = 2, ValSplit = 0.25, Seed = 3, Workers = 0, Lr = 0.01,
        Out = Path.Combine(_dir, run),
    };

    [Fact]
    public void Train_writes_the_run_folder_and_reports_epochs_and_steps()
    {
        // Given a tiny classifier trained from C# with listeners
        var epochs = new List<EpochProgress>();
        var steps = new List<StepProgress>();
        var lines = new List<string>();
        var events = new TrainEvents { Message = lines.Add, Epochs = new SyncProgress<EpochProgress>(epochs.Add), Steps = new SyncProgress<StepProgress>(steps.Add) };

        // When it trains
        var run = Classifier.Train(_data, Tiny("run"), events);

        // Then the run folder is the CLI's and reads back
        foreach (var file in new[] { "args.yaml", "classes.txt", "results.csv", "curves.png" })
            Assert.True(File.Exists(Path.Combine(run.RunDir, file)), file);
        Assert.True(File.Exists(run.BestPath));
        Assert.True(File.Exists(run.LastPath));
        var args = ArgsYaml.Read<ClassifierTrainOptions>(Path.Combine(run.RunDir, "args.yaml"), "test");
        Assert.Equal("minicnn", args.Model);
        Assert.Equal("onecycle", args.Schedule); // the default schedule, as it ran
        Assert.Equal(32, args.Width); // and minicnn's default width
        Assert.Equal(Path.GetFullPath(_data), args.Data);
        Assert.Equal(["blue", "red"], File.ReadAllLines(Path.Combine(run.RunDir, "classes.txt")));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run.RunDir, "results.csv")).Length);
        // and the caller heard about every epoch (with the CSV's metrics) and every step
        Assert.Equal([0, 1], epochs.Select(e => e.Epoch));
        Assert.All(epochs, e => Assert.Contains("val_loss", e.Logs.Keys));
        Assert.Equal(2, run.History.Count);
        Assert.True(steps.Count >= 2 * 2, $"{steps.Count} steps");
        Assert.Contains(lines, l => l.StartsWith("Run folder: ", StringComparison.Ordinal));

        // And resuming the finished run does nothing and says so
        var again = Classifier.Resume(run.RunDir, new TrainEvents { Message = lines.Add });
        Assert.Equal(0, again.History.Count);
        Assert.Contains(lines, l => l.Contains("Nothing to resume", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("auto", null, "onecycle")]
    [InlineData("auto", 2, "none")]
    [InlineData("cosine", 2, "cosine")]
    [InlineData("none", null, "none")]
    public void Default_schedule_is_one_cycle_unless_reduce_lr_on_plateau_owns_the_rate(string schedule, int? reduceLrPatience, string runs)
    {
        var options = new ClassifierTrainOptions { Schedule = schedule, ReduceLrPatience = reduceLrPatience };

        Assert.Equal("auto", new ClassifierTrainOptions().Schedule);
        Assert.Equal(runs, options.ResolvedSchedule);
    }

    [Fact]
    public void Load_predict_and_evaluate_agree_with_each_other()
    {
        // Given a trained run
        var run = Classifier.Train(_data, Tiny("eval") with { Epochs = 1 });

        // When loaded from its folder and used on the training images
        using var model = Classifier.Load(run.RunDir);
        var files = Directory.GetFiles(_data, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var predictions = model.Predict(files);
        var evaluation = model.Evaluate(_data);

        // Then predictions carry a label and a probability per class
        Assert.Equal(["blue", "red"], model.Classes);
        Assert.Equal(files.Count, predictions.Images.Count);
        Assert.All(predictions.Images, p =>
        {
            Assert.Equal(2, p.Probabilities.Length);
            Assert.Equal(1f, p.Probabilities.Sum(), 3);
            Assert.Equal(p.Probabilities.Max(), p.Score);
            Assert.Contains(p.Label, model.Classes);
        });
        // and evaluate's accuracy is predict's share of right labels (the label is the folder name)
        double right = predictions.Images.Count(p => Path.GetFileName(Path.GetDirectoryName(p.Path)) == p.Label);
        Assert.Equal(files.Count, evaluation.Summary.Images);
        Assert.Equal(right / files.Count, evaluation.Accuracy, 6);
        int[,] matrix = evaluation.ConfusionMatrix;
        Assert.Equal(files.Count, matrix.Cast<int>().Sum());
        Assert.Equal((int)right, matrix[0, 0] + matrix[1, 1]);

        // And the report files are written like `sharpvision evaluate`'s
        string report = Path.Combine(_dir, "report");
        evaluation.Save(report, topLosses: 4);
        foreach (var file in new[] { "metrics.json", "report.txt", "confusion_matrix.png", "top_losses.png" })
            Assert.True(File.Exists(Path.Combine(report, file)), file);
    }

    [Fact]
    public void Augment_rescale_mean_and_std_reach_the_saved_preprocessing()
    {
        // Given rescale/mean/std in the augmentation options (Keras' ImageDataGenerator names)
        var run = Classifier.Train(_data, Tiny("norm") with { Epochs = 1, Augment = "rescale=0.5,mean=0.1:0.2:0.3,std=2:2:2" });

        // Then the model's preprocessing is theirs, so evaluation and prediction normalise the same way
        using var model = Classifier.Load(run.BestPath);
        var pre = model.Config!.Preprocessing;
        Assert.Equal(0.5f, pre.Scale);
        Assert.Equal([0.1f, 0.2f, 0.3f], pre.Mean);
        Assert.Equal([2f, 2f, 2f], pre.Std);
    }

    [Fact]
    public void Errors_name_the_option_record_property()
    {
        var both = Assert.Throws<InvalidOptionException>(() => Classifier.Train(_data, Tiny("x") with { Val = _data, ValSplit = 0.2 }));
        Assert.Equal("ClassifierTrainOptions.ValSplit must be left out when ClassifierTrainOptions.Val is given. Received: ClassifierTrainOptions.ValSplit=0.2", both.Message);
        var top = Assert.Throws<InvalidOptionException>(() => Classifier.Train(_data, Tiny("y") with { UnfreezeTop = 2 }));
        Assert.StartsWith("ClassifierTrainOptions.UnfreezeTop must be used with ClassifierTrainOptions.FineTune", top.Message);
        var ft = Assert.Throws<InvalidOptionException>(() => Classifier.Train(_data, Tiny("z") with { FineTune = (0, 2) }));
        Assert.StartsWith("ClassifierTrainOptions.FineTune must be two epoch counts", ft.Message);
    }

    /// <summary>IProgress that runs on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
