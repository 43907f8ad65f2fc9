using System.Runtime.CompilerServices;
using System.Text.Json;
using SharpVision.Evaluation.Detection;

namespace SharpVision.Tests.Evaluation.Detection;

public class DetectionInputsTests
{
    private static string TestData([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "TestData");

    private static string Temp(string name, string text)
    {
        string dir = Path.Combine(Path.GetTempPath(), "sv-map-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Random_coco_case_matches_the_numpy_reimplementation_bit_for_bit()
    {
        // Given the random case written by TestData/make_random_case.py (ties, crowd, area fields, an unknown
        // category, clutter) and the stats numpy computed for it
        string dir = TestData();
        var data = DetectionEvalInputs.Load(Path.Combine(dir, "random_gt.json"), Path.Combine(dir, "random_dt.json"));
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "random_expected.json")));
        var stats = expected.RootElement.GetProperty("stats").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        // When evaluated
        var r = CocoEvaluator.Evaluate(data);

        // Then all 12 numbers are the same doubles
        Assert.Equal(expected.RootElement.GetProperty("detections").GetInt32(), data.Detections.Count);
        Assert.Equal(stats, r.Stats);
    }

    [Fact]
    public void Annotation_lines_pair_by_path_with_class_index_plus_one_as_category()
    {
        // Given ground truth and detections as lines (a path with a space, an image with no objects)
        string gt = Temp("gt.txt", "b.jpg 10,20,30,60,1\nmy dir/a.jpg 0,0,10,10,0 5,5,9,9,0\nempty.jpg\n");
        string dt = Temp("dt.txt", "my dir/a.jpg 0,0,10,10,0,0.9\nempty.jpg 1,1,2,2,1,0.5\n");

        var data = DetectionEvalInputs.Load(gt, dt, ["cat", "dog"]);

        // Then images get ids by sorted path, boxes become [x1, y1, x2-x1, y2-y1], class i is category i+1
        Assert.Equal(["b.jpg", "empty.jpg", "my dir/a.jpg"], data.Images.Select(i => i.Name));
        Assert.Equal(new GroundTruthBox(1, 2, 10, 20, 20, 40), data.GroundTruth[0]);
        Assert.Equal(new GroundTruthBox(3, 1, 5, 5, 4, 4), data.GroundTruth[2]);
        Assert.Equal(new DetectionBox(2, 2, 1, 1, 1, 1, 0.5), data.Detections[1]);
        Assert.Equal(["cat", "dog"], data.Categories.Select(c => c.Name));
    }

    [Fact]
    public void Bad_annotation_line_names_file_and_line()
    {
        string gt = Temp("gt.txt", "a.jpg 0,0,10,10,0\nb.jpg 0,0,10,zz,0\n");
        string dt = Temp("dt.txt", "a.jpg 0,0,10,10,0,0.9\n");

        var e = Assert.Throws<DatasetException>(() => DetectionEvalInputs.Load(gt, dt));

        Assert.Contains($"{gt}:2:", e.Message);
        Assert.Contains("x1,y1,x2,y2,cls", e.Message);
    }

    [Fact]
    public void Detection_line_without_score_and_unknown_image_are_errors()
    {
        string gt = Temp("gt.txt", "a.jpg 0,0,10,10,0\n");
        var noScore = Assert.Throws<DatasetException>(() => DetectionEvalInputs.Load(gt, Temp("dt.txt", "a.jpg 0,0,10,10,0\n")));
        Assert.Contains(":1: a box must be x1,y1,x2,y2,cls,score", noScore.Message);

        var stray = Assert.Throws<DatasetException>(() => DetectionEvalInputs.Load(gt, Temp("dt.txt", "\n\nz.jpg 0,0,10,10,0,0.3\n")));
        Assert.Contains(":3: image z.jpg has detections but no line in the ground truth", stray.Message);
    }

    [Fact]
    public void Coco_results_on_an_image_the_ground_truth_does_not_list_are_refused()
    {
        string gt = Temp("gt.json", """{"images":[{"id":1}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,5,5]}],"categories":[{"id":1,"name":"a"}]}""");
        string dt = Temp("dt.json", """[{"image_id":7,"category_id":1,"bbox":[0,0,5,5],"score":0.5}]""");

        var e = Assert.Throws<DatasetException>(() => DetectionEvalInputs.Load(gt, dt));

        Assert.Contains("image_id 7", e.Message);
    }

    [Fact]
    public void Coco_ground_truth_keeps_area_and_iscrowd()
    {
        string gt = Temp("gt.json", """{"images":[{"id":3,"file_name":"x.jpg"}],"annotations":[{"id":1,"image_id":3,"category_id":2,"bbox":[1,2,3,4],"area":5.5,"iscrowd":1}],"categories":[{"id":2,"name":"b"}]}""");
        string dt = Temp("dt.json", "[]");

        var data = DetectionEvalInputs.Load(gt, dt);

        var g = Assert.Single(data.GroundTruth);
        Assert.Equal(5.5, g.RangeArea);
        Assert.True(g.IsCrowd);
        Assert.Equal("b", Assert.Single(data.Categories).Name);
    }

    [Fact]
    public void Numpy_pairwise_sum_differs_from_a_plain_loop_as_numpy_does()
    {
        // Given 101 copies of p = 1/(1+eps): a left-to-right loop and numpy's pairwise sum round differently
        double p = 1 / (1 + NumpyCompat.Spacing1);
        var values = Enumerable.Repeat(p, 101).ToArray();

        // Then our mean is numpy's np.mean(np.full(101, p)) = 0.9999999999999999 (numpy 1.24)
        Assert.Equal(0.9999999999999999, NumpyCompat.Mean(values));
        Assert.Equal(p, NumpyCompat.Mean(Enumerable.Repeat(p, 1010).ToArray()));
    }
}
