using SharpVision.Data;

namespace SharpVision.Tests.Data;

internal static class Datasets
{
    /// <summary>A dataset of fake paths with the given number of samples per class (classes "c0", "c1", ...).</summary>
    public static ClassificationDataset WithCounts(params int[] counts)
    {
        var samples = new List<ImageSample>();
        for (int c = 0; c < counts.Length; c++)
            for (int i = 0; i < counts[c]; i++) samples.Add(new ImageSample($"/data/c{c}/{i}.png", c));
        return new ClassificationDataset(samples, counts.Select((_, c) => $"c{c}").ToList()) { Source = "/data" };
    }
}

public class DatasetSplitTests
{
    [Fact]
    public void Stratified_split_sends_rounded_fraction_of_each_class_to_validation()
    {
        // Given classes of 100, 10, 3, 2 and 1 samples
        var ds = Datasets.WithCounts(100, 10, 3, 2, 1);

        // When 20% is held out
        var (train, val) = DatasetSplit.Stratified(ds, 0.2, seed: 7);

        // Then round(0.2 * n) per class, at least 1 when n >= 2, and a single sample stays in training
        Assert.Equal([20, 2, 1, 1, 0], val.CountsPerClass());
        Assert.Equal([80, 8, 2, 1, 1], train.CountsPerClass());
        Assert.Empty(train.Samples.Select(s => s.Path).Intersect(val.Samples.Select(s => s.Path)));
        Assert.Equal(ds.Classes, val.Classes);
    }

    [Fact]
    public void Stratified_split_is_deterministic_per_seed()
    {
        var ds = Datasets.WithCounts(50, 30);
        var (_, a) = DatasetSplit.Stratified(ds, 0.3, 1);
        var (_, b) = DatasetSplit.Stratified(ds, 0.3, 1);
        var (_, c) = DatasetSplit.Stratified(ds, 0.3, 2);
        Assert.Equal(a.Samples, b.Samples);
        Assert.NotEqual(a.Samples, c.Samples);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void Fraction_outside_open_unit_interval_is_an_option_error(double fraction)
    {
        var e = Assert.Throws<InvalidOptionException>(() => DatasetSplit.Stratified(Datasets.WithCounts(5, 5), fraction, 0));
        Assert.Equal("DatasetSplit.ValSplit", e.Option);
        Assert.Contains("a fraction between 0 and 1 (exclusive)", e.Message);
    }
}

public class ClassWeightsTests
{
    [Fact]
    public void Balanced_weights_follow_sklearn_formula()
    {
        // Given 6, 3 and 1 samples: n = 10, k = 3
        var w = ClassWeights.Balanced(Datasets.WithCounts(6, 3, 1));
        // Then 10 / (3 * count)
        Assert.Equal(10.0 / 18, w[0], 6);
        Assert.Equal(10.0 / 9, w[1], 6);
        Assert.Equal(10.0 / 3, w[2], 6);
    }
}

public class DatasetScanTests
{
    [Fact]
    public void Scan_counts_classes_reports_binary_and_warns_about_imbalance_and_empty_classes()
    {
        var report = DatasetScan.Scan(Datasets.WithCounts(110, 10, 0));
        Assert.Equal([110, 10, 0], report.Classes.Select(c => c.Count));
        Assert.False(report.IsBinary);
        Assert.Equal(11, report.ImbalanceRatio, 6);
        Assert.Contains(report.Warnings, w => w.Contains("no images: 'c2'"));
        Assert.Contains(report.Warnings, w => w.Contains("imbalanced") && w.Contains("'c0' has 110") && w.Contains("'c1' has 10"));
        Assert.StartsWith("Found 120 images belonging to 3 classes", report.Lines()[0]);
    }

    [Fact]
    public void Balanced_two_class_data_is_binary_without_warnings()
    {
        var report = DatasetScan.Scan(Datasets.WithCounts(10, 1));
        Assert.True(report.IsBinary);
        Assert.Empty(report.Warnings); // ratio exactly 10 is not "more than 10"
    }

    [Fact]
    public void Single_class_is_an_error_naming_the_class_and_folder()
    {
        using var dir = new TempDir();
        dir.Write("cat/1.png");
        var e = Assert.Throws<DatasetException>(() => DatasetScan.Scan(FolderDataset.Load(dir.Path)));
        Assert.Equal($"needs at least 2 classes, found 1: 'cat' in {dir.Path}", e.Message);
    }

    [Fact]
    public void Single_class_is_accepted_when_not_for_training()
    {
        var report = DatasetScan.Scan(Datasets.WithCounts(0, 4), forTraining: false);
        Assert.Equal(4, report.Total);
    }

    [Fact]
    public void Folder_without_images_is_an_error()
    {
        using var dir = new TempDir();
        dir.Write("cat/readme.txt");
        var e = Assert.Throws<DatasetException>(() => DatasetScan.Scan(FolderDataset.Load(dir.Path)));
        Assert.Contains($"no images found in {dir.Path}", e.Message);
    }
}

public class ThreadPlanTests
{
    [Theory]
    [InlineData(1, null, 0, 1)]
    [InlineData(2, null, 1, 2)]
    [InlineData(8, null, 2, 7)]
    [InlineData(16, null, 4, 14)]
    [InlineData(64, null, 8, 60)]
    [InlineData(2, 4, 4, 1)]
    [InlineData(4, 0, 0, 4)]
    public void Workers_and_torch_threads_are_chosen_together(int cores, int? requested, int workers, int torchThreads)
    {
        Assert.Equal((workers, torchThreads), ThreadPlan.Choose(cores, requested));
    }

    [Fact]
    public void Negative_workers_is_an_option_error()
    {
        var e = Assert.Throws<InvalidOptionException>(() => ThreadPlan.Choose(4, -1));
        Assert.Equal("ThreadPlan.Workers must be 0 or more (0 decodes on the training thread). Received: ThreadPlan.Workers=-1", e.Message);
    }
}
