using System.Globalization;
using SharpVision.Imaging;
using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public class PredictCommandTests(CliFixture fx)
{
    private static string OutDir(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpvision-cli-tests", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string[][] ReadCsv(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();

    [Fact]
    public void Kaggle_flat_folder_of_numbered_jpegs_gives_id_label_sorted_by_id_with_p_dog()
    {
        // Given a Kaggle-style test1/ folder: numbered JPEGs (odd = dog, even = cat), one without a number and
        // one corrupt file
        string test1 = Path.Combine(fx.Root, "kaggle", "test1");
        Directory.CreateDirectory(test1);
        int[] ids = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 100];
        foreach (int id in ids) ImageEncoder.SaveJpeg(CliFixture.Image(id % 2 == 1 ? 1 : 0, id, 50, 40), Path.Combine(test1, $"{id}.jpg"));
        ImageEncoder.SaveJpeg(CliFixture.Image(0, 77), Path.Combine(test1, "cover.jpg"));
        File.WriteAllBytes(Path.Combine(test1, "7.jpg"), [0xFF, 0xD8, 0xFF, 0x00]);
        string csv = Path.Combine(OutDir("predict-kaggle"), "submission.csv");

        // When predicting with --submission kaggle-dogs-vs-cats
        var r = Cli.Run("predict", fx.BinaryModel, test1, "--submission", "kaggle-dogs-vs-cats", "--out", csv, "--workers", "0");

        // Then the file is id,label with ids in numeric order (10 after 9) and label = P(dog)
        Assert.True(r.ExitCode == 0, r.Error);
        var rows = ReadCsv(csv);
        Assert.Equal(["id", "label"], rows[0]);
        Assert.Equal(ids, rows.Skip(1).Select(row => int.Parse(row[0], CultureInfo.InvariantCulture)).ToArray());
        foreach (var row in rows.Skip(1))
        {
            int id = int.Parse(row[0], CultureInfo.InvariantCulture);
            double pDog = double.Parse(row[1], CultureInfo.InvariantCulture);
            if (id % 2 == 1) Assert.True(pDog > 0.5, $"id {id} is a dog but P(dog) = {pDog}");
            else Assert.True(pDog < 0.5, $"id {id} is a cat but P(dog) = {pDog}");
        }
        // ... and the files left out are named with the reason
        Assert.Contains("cover.jpg: no number in the file name", r.Error);
        Assert.Contains("7.jpg", r.Error);
        Assert.Contains("unreadable", r.Error);
        Assert.Contains($"Wrote a submission of {ids.Length} ids (label = P(dog))", r.Out);
    }

    [Fact]
    public void Csv_has_top_k_columns_and_one_probability_column_per_class()
    {
        // Given images in nested folders, one of each class, and a corrupt file
        string dir = Path.Combine(fx.Root, "predict-csv");
        for (int c = 0; c < 3; c++)
        {
            Directory.CreateDirectory(Path.Combine(dir, "sub" + c));
            ImageEncoder.SavePng(CliFixture.Image(c, 700 + c), Path.Combine(dir, "sub" + c, $"img{c}.png"));
        }
        File.WriteAllText(Path.Combine(dir, "sub0", "bad.png"), "garbage");
        string csv = Path.Combine(OutDir("predict-csv"), "preds.csv");

        // When predicting with --top-k 2 --probabilities
        var r = Cli.Run("predict", fx.ThreeClassModel, dir, "--out", csv, "--top-k", "2", "--probabilities", "--workers", "0");

        // Then the header has the top-2 and per-class columns, and each row is consistent
        Assert.True(r.ExitCode == 0, r.Error);
        var rows = ReadCsv(csv);
        Assert.Equal(["file", "label", "score", "label_2", "score_2", "p_cat", "p_dog", "p_fox"], rows[0]);
        Assert.Equal(4, rows.Length); // 3 images; the corrupt one is not a row
        string[] expected = ["cat", "dog", "fox"];
        foreach (var row in rows.Skip(1))
        {
            var p = row[5..8].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1.0, p.Sum(), 4);
            Assert.Equal(p.Max(), double.Parse(row[2], CultureInfo.InvariantCulture), 6);
            Assert.True(double.Parse(row[4], CultureInfo.InvariantCulture) <= double.Parse(row[2], CultureInfo.InvariantCulture));
            Assert.NotEqual(row[1], row[3]);
            int c = int.Parse(Path.GetFileNameWithoutExtension(row[0])[3..], CultureInfo.InvariantCulture);
            Assert.Equal(expected[c], row[1]);
        }
        Assert.Contains("bad.png", r.Error);
        Assert.Contains("label_2", r.Out); // the terminal table
    }

    [Fact]
    public void Grid_png_shows_each_image_with_its_label()
    {
        string dir = Path.Combine(fx.Root, "predict-grid");
        Directory.CreateDirectory(dir);
        for (int i = 0; i < 6; i++) ImageEncoder.SaveJpeg(CliFixture.Image(i % 3, 800 + i, 64, 48), Path.Combine(dir, $"photo_{i}.jpg"));
        string png = Path.Combine(OutDir("predict-grid"), "predictions.png");

        var r = Cli.Run("predict", fx.ThreeClassModel, dir, "--grid", png, "--workers", "0");

        Assert.True(r.ExitCode == 0, r.Error);
        using var probe = new PngProbe(png);
        Assert.Equal(6 * (128 + 8) + 8, probe.Width); // 6 tiles of 128 px in one row
        Assert.True(probe.DistinctColours() > 50, "the grid shows no photos");
        // Captions: dark text under the first tile.
        Assert.True(probe.DarkPixels(8, probe.Height - 40, 136, probe.Height) > 30, "no caption under the first tile");
    }

    [Fact]
    public void Id_from_filename_with_a_multiclass_model_writes_the_predicted_class()
    {
        string dir = Path.Combine(fx.Root, "predict-ids");
        Directory.CreateDirectory(dir);
        for (int i = 1; i <= 3; i++) ImageEncoder.SavePng(CliFixture.Image(i - 1, 10 + i), Path.Combine(dir, $"img_{i:000}.png"));
        string csv = Path.Combine(OutDir("predict-ids"), "ids.csv");

        var r = Cli.Run("predict", fx.ThreeClassModel, dir, "--id-from-filename", "--out", csv, "--workers", "0");

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal("id,label\n1,cat\n2,dog\n3,fox\n", File.ReadAllText(csv));
    }

    [Fact]
    public void Kaggle_submission_with_a_three_class_model_is_refused()
    {
        var r = Cli.Run("predict", fx.ThreeClassModel, fx.Root, "--submission", "kaggle-dogs-vs-cats", "--out", Path.Combine(fx.Root, "x.csv"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--submission must be kaggle-dogs-vs-cats with a two-class model", r.Error);
    }

    [Fact]
    public void Unknown_submission_format_names_the_allowed_one()
    {
        var r = Cli.Run("predict", fx.BinaryModel, fx.Root, "--submission", "titanic");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--submission must be kaggle-dogs-vs-cats. Received: --submission=titanic", r.Error);
    }

    [Fact]
    public void Missing_path_is_an_error_naming_it()
    {
        var r = Cli.Run("predict", fx.BinaryModel, Path.Combine(fx.Root, "nope.jpg"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope.jpg (not found)", r.Error);
    }
}
