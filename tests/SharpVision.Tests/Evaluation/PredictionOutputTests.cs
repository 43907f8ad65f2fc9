using SharpVision.Evaluation;

namespace SharpVision.Tests.Evaluation;

public class PredictionTableTests
{
    private static PredictionTable Table() => new(
        ["x/a.png", "x/b,c.png"],
        [[0.1f, 0.7f, 0.2f], [0.5f, 0.25f, 0.25f]],
        ["cat", "dog", "fox"]);

    [Fact]
    public void Csv_has_file_label_score_then_top_k_pairs_then_class_probabilities()
    {
        var csv = Table().ToCsv(topK: 2, probabilities: true);

        Assert.Equal(
            "file,label,score,label_2,score_2,p_cat,p_dog,p_fox\n" +
            "x/a.png,dog,0.7,fox,0.2,0.1,0.7,0.2\n" +
            "\"x/b,c.png\",cat,0.5,dog,0.25,0.5,0.25,0.25\n", csv);
    }

    [Fact]
    public void Plain_csv_has_three_columns_and_top_k_breaks_ties_by_class_order()
    {
        var t = Table();

        Assert.Equal("file,label,score\nx/a.png,dog,0.7\n\"x/b,c.png\",cat,0.5\n", t.ToCsv());
        Assert.Equal([(0, 0.5f), (1, 0.25f), (2, 0.25f)], t.Top(1, 3));
    }

    [Fact]
    public void Text_table_aligns_columns()
    {
        var text = Table().ToText(2);

        // Text left-aligned, scores right-aligned so the decimal points line up.
        Assert.Equal(
            "file       label   score  label_2  score_2\n" +
            "x/a.png    dog    0.7000  fox       0.2000\n" +
            "x/b,c.png  cat    0.5000  dog       0.2500\n", text);
    }
}

public class SubmissionTests
{
    [Theory]
    [InlineData("test1/123.jpg", 123)]
    [InlineData("img_0042.png", 42)]
    [InlineData("cat.7.jpg", 7)]
    public void Id_is_the_one_number_in_the_file_name(string path, long expected)
    {
        Assert.True(Submission.TryParseId(path, out long id, out var reason), reason);
        Assert.Equal(expected, id);
    }

    [Theory]
    [InlineData("cover.jpg", "no number in the file name 'cover.jpg'")]
    [InlineData("shot_2_of_3.jpg", "several numbers in the file name 'shot_2_of_3.jpg', the id is ambiguous")]
    [InlineData("99999999999999999999.jpg", "too large")]
    public void File_without_a_single_number_has_no_id_and_a_reason(string path, string reason)
    {
        Assert.False(Submission.TryParseId(path, out _, out var why));
        Assert.Contains(reason, why);
    }

    [Fact]
    public void Kaggle_rows_are_sorted_numerically_with_p_of_the_positive_class()
    {
        // Given predictions in file-name order (10 before 2) with one unnumbered and one duplicate id
        var table = new PredictionTable(
            ["t/10.jpg", "t/2.jpg", "t/cover.jpg", "t/1.jpg", "t/1.png"],
            [[0.25f, 0.75f], [0.9f, 0.1f], [0.5f, 0.5f], [0.4f, 0.6f], [0.4f, 0.6f]],
            ["cat", "dog"]);

        var sub = Submission.Build(table, SubmissionFormat.KaggleDogsVsCats);

        Assert.Equal("id,label\n1,0.6\n2,0.1\n10,0.75\n", sub.ToCsv());
        Assert.Equal(["t/cover.jpg", "t/1.png"], sub.Skipped.Select(s => s.Path).ToArray());
        Assert.Equal("id 1 already used by t/1.jpg", sub.Skipped[1].Reason);
    }

    [Fact]
    public void Multiclass_id_from_filename_writes_the_predicted_class_and_kaggle_is_refused()
    {
        var table = new PredictionTable(["3.jpg", "1.jpg"], [[0.1f, 0.2f, 0.7f], [0.6f, 0.3f, 0.1f]], ["a", "b", "c"]);

        Assert.Equal("id,label\n1,a\n3,c\n", Submission.Build(table, SubmissionFormat.IdFromFilename).ToCsv());
        var e = Assert.Throws<InvalidOptionException>(() => Submission.Build(table, SubmissionFormat.KaggleDogsVsCats));
        Assert.Equal("Submission.Kind", e.Option);
    }
}
