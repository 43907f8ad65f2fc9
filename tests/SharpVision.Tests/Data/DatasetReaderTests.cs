using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class FolderDatasetTests
{
    [Fact]
    public void Classes_are_subfolders_sorted_ordinally_and_files_found_recursively_in_sorted_order()
    {
        // Given class folders created out of order, one with a nested folder and a non-image file
        using var dir = new TempDir();
        dir.Write("dog/b.JPG");
        dir.Write("dog/a.png");
        dir.Write("Zebra/z.webp");
        dir.Write("cat/sub/c.jpeg");
        dir.Write("cat/a.bmp");
        dir.Write("cat/notes.txt");
        dir.Write(".ipynb_checkpoints/x.png");

        // When read
        var ds = FolderDataset.Load(dir.Path);

        // Then classes follow Python's sorted() (upper case first), hidden folders and non-images are ignored
        Assert.Equal(["Zebra", "cat", "dog"], ds.Classes);
        var rel = ds.Samples.Select(s => (Path.GetRelativePath(dir.Path, s.Path), s.Label)).ToList();
        Assert.Equal(
            [("Zebra/z.webp", 0), ("cat/a.bmp", 1), ("cat/sub/c.jpeg", 1), ("dog/a.png", 2), ("dog/b.JPG", 2)],
            rel);
        Assert.Empty(ds.Warnings);
        Assert.Equal(dir.Path, ds.Source);
    }

    [Fact]
    public void Given_class_list_sets_label_order_and_reports_unknown_folders()
    {
        // Given folders cat, dog, fox and a model trained on [dog, cat, bird]
        using var dir = new TempDir();
        dir.Write("cat/1.png");
        dir.Write("dog/1.png");
        dir.Write("fox/1.png");
        dir.Write("fox/2.png");

        // When read against that class list
        var ds = FolderDataset.Load(dir.Path, ["dog", "cat", "bird"]);

        // Then labels index the given order, and fox is reported, not read
        Assert.Equal(["dog", "cat", "bird"], ds.Classes);
        Assert.Equal([1, 0], ds.Samples.Select(s => s.Label));
        var warning = Assert.Single(ds.Warnings);
        Assert.Contains("'fox' (2 images)", warning);
    }

    [Fact]
    public void Missing_folder_is_a_dataset_error_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "sv-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DatasetException>(() => FolderDataset.Load(missing));
        Assert.Contains(missing, e.Message);
    }
}

public class FilenameLabelDatasetTests
{
    [Fact]
    public void Label_is_text_before_first_dot_and_unlabelled_files_are_warned_about()
    {
        // Given Kaggle dogs-vs-cats names, a name with no label and a non-image file
        using var dir = new TempDir();
        dir.Write("dog.2.jpg");
        dir.Write("cat.10.jpg");
        dir.Write("cat.1.jpg");
        dir.Write(".hidden.jpg");
        dir.Write("readme.txt");

        // When read with the default rule
        var ds = FilenameLabelDataset.Load(dir.Path);

        // Then classes are sorted, files sorted ordinally, and the unlabelled file is named in a warning
        Assert.Equal(["cat", "dog"], ds.Classes);
        Assert.Equal([("cat.1.jpg", 0), ("cat.10.jpg", 0), ("dog.2.jpg", 1)],
            ds.Samples.Select(s => (Path.GetFileName(s.Path), s.Label)));
        var warning = Assert.Single(ds.Warnings);
        Assert.Contains(".hidden.jpg", warning);
        Assert.DoesNotContain("readme", warning);
    }

    [Fact]
    public void Regex_capture_group_gives_the_label_and_non_matching_files_are_listed()
    {
        // Given names like img_<label>_<n>.png and one that does not follow it
        using var dir = new TempDir();
        dir.Write("img_ant_1.png");
        dir.Write("img_bee_2.png");
        dir.Write("photo.png");

        // When read with a one-group pattern
        var ds = FilenameLabelDataset.Load(dir.Path, @"^img_([a-z]+)_\d+");

        // Then the group is the label and photo.png is reported
        Assert.Equal(["ant", "bee"], ds.Classes);
        Assert.Equal(2, ds.Count);
        Assert.Contains("photo.png", Assert.Single(ds.Warnings));
    }

    [Theory]
    [InlineData(@"^img_[a-z]+")]            // no group
    [InlineData(@"^(img)_([a-z]+)")]        // two groups
    [InlineData(@"^img_([a-z+")]            // not a regex
    public void Pattern_without_exactly_one_group_or_invalid_is_an_option_error(string pattern)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidOptionException>(() => FilenameLabelDataset.Load(dir.Path, pattern));
        Assert.Equal("FilenameLabelDataset.LabelPattern", e.Option);
        Assert.Contains("exactly one capture group", e.Message);
        Assert.Contains($"Received: FilenameLabelDataset.LabelPattern={pattern}", e.Message);
    }
}

public class CsvDatasetTests
{
    [Fact]
    public void Csv_with_quoting_and_relative_paths_is_read_and_missing_files_reported_with_row()
    {
        // Given a CSV in a sub folder naming files relative to it, with quoted commas, quotes and a line break
        using var dir = new TempDir();
        var a = dir.Write("set/img/a,1.png");
        var b = dir.Write("set/img/b\"q.png");
        var c = dir.Write("set/c.png");
        string csv = dir.Write("set/labels.csv",
            "id,filename,label\r\n" +
            "1,\"img/a,1.png\",\"big, red\"\r\n" +
            "2,\"img/b\"\"q.png\",small\r\n" +
            "3,\"c.png\",\"two\nlines\"\r\n" +
            "4,img/gone.png,small\r\n" +
            "\r\n");

        // When read
        var ds = CsvDataset.Load(csv);

        // Then fields are unquoted, paths resolved against the CSV's folder, classes sorted
        Assert.Equal(["big, red", "small", "two\nlines"], ds.Classes);
        Assert.Equal([(a, 0), (b, 1), (c, 2)], ds.Samples.Select(s => (s.Path, s.Label)));
        // And the row naming a missing file is reported with its row number (header = row 1; the quoted line break does not shift it)
        var warning = Assert.Single(ds.Warnings);
        Assert.Contains("row 5: img/gone.png", warning);
    }

    [Fact]
    public void Custom_columns_are_used()
    {
        using var dir = new TempDir();
        dir.Write("x.png");
        string csv = dir.Write("t.csv", "path,class\nx.png,7\n");
        var ds = CsvDataset.Load(csv, filenameColumn: "path", labelColumn: "class");
        Assert.Equal(["7"], ds.Classes);
        Assert.Single(ds.Samples);
    }

    [Fact]
    public void Missing_column_error_names_the_column_and_the_header_found()
    {
        using var dir = new TempDir();
        string csv = dir.Write("t.csv", "file,label\nx.png,a\n");
        var e = Assert.Throws<DatasetException>(() => CsvDataset.Load(csv));
        Assert.Contains("no column 'filename'", e.Message);
        Assert.Contains("'file', 'label'", e.Message);
    }

    [Fact]
    public void Labels_outside_a_given_class_list_are_reported()
    {
        using var dir = new TempDir();
        dir.Write("x.png");
        dir.Write("y.png");
        string csv = dir.Write("t.csv", "filename,label\nx.png,cat\ny.png,emu\n");
        var ds = CsvDataset.Load(csv, classes: ["dog", "cat"]);
        Assert.Equal([1], ds.Samples.Select(s => s.Label));
        Assert.Contains("'emu' (1 image)", Assert.Single(ds.Warnings));
    }
}

public class DatasetLayoutsTests
{
    [Fact]
    public void Unknown_layout_name_is_an_option_error_listing_the_choices()
    {
        var e = Assert.Throws<InvalidOptionException>(() => DatasetLayouts.Parse("folder"));
        Assert.Equal("DatasetLayout.Layout must be one of folders, filenames, csv. Received: DatasetLayout.Layout=folder", e.Message);
    }

    [Fact]
    public void Layout_is_detected_from_what_the_path_holds()
    {
        using var dir = new TempDir();
        string csv = dir.Write("t.csv", "filename,label\n");
        dir.Write("flat/cat.1.jpg");
        dir.Write("tree/cat/1.jpg");

        Assert.Equal(DatasetLayout.Csv, DatasetLayouts.Detect(csv));
        Assert.Equal(DatasetLayout.Filenames, DatasetLayouts.Detect(Path.Combine(dir.Path, "flat")));
        Assert.Equal(DatasetLayout.Folders, DatasetLayouts.Detect(Path.Combine(dir.Path, "tree")));
        Assert.Equal(DatasetLayout.Folders, DatasetLayouts.Detect(Path.Combine(dir.Path, "missing")));
    }
}
