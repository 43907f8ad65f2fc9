using SharpVision.Data.Detection;

namespace SharpVision.Tests.Data.Detection;

public sealed class AnchorsTests
{
    [Fact]
    public void Iou_of_sizes_aligned_at_the_origin_is_min_product_over_union()
    {
        // 10x20 and 20x10 overlap in 10x10: 100 / (200 + 200 - 100)
        Assert.Equal(1.0 / 3, Anchors.IoU((10, 20), (20, 10)), 6);
        Assert.Equal(1.0, Anchors.IoU((7, 9), (7, 9)), 6);
    }

    [Fact]
    public void Kmeans_recovers_three_known_sizes_sorted_by_area_with_mean_iou_near_one()
    {
        // Given boxes jittered by at most 1 px around three sizes
        var rng = new Random(3);
        (float, float)[] truth = [(120, 90), (12, 16), (40, 60)];
        var boxes = Enumerable.Range(0, 300)
            .Select(i => truth[i % 3])
            .Select(t => (t.Item1 + (float)rng.NextDouble() * 2 - 1, t.Item2 + (float)rng.NextDouble() * 2 - 1))
            .ToList();

        var result = Anchors.KMeans(boxes, 3, seed: 5);

        Assert.Equal("12,16, 40,60, 120,90", result.ToAnchorsText());
        Assert.True(result.MeanIoU > 0.95, $"mean IoU {result.MeanIoU}");
        Assert.Equal(result.ToAnchorsText(), Anchors.KMeans(boxes, 3, seed: 5).ToAnchorsText());
    }

    [Fact]
    public void Letterbox_scaling_uses_the_smaller_of_the_two_ratios_per_image()
    {
        var data = new DetectionDataset(
            [new DetectionSample("x.png", [new BoxLabel(0, 0, 100, 50, 0), new BoxLabel(5, 5, 5, 9, 0)], 800, 400)],
            ["a"], [], DetectionFormat.Lines, "t");

        var (scaled, _) = Anchors.BoxSizes(data, 416);
        var (raw, _) = Anchors.BoxSizes(data, 0);

        Assert.Equal([(52f, 26f)], scaled); // 416 / 800 = 0.52; the zero-width box is left out
        Assert.Equal([(100f, 50f)], raw);
    }

    [Fact]
    public void Kmeans_with_fewer_boxes_than_clusters_says_how_many_it_found()
    {
        var e = Assert.Throws<DatasetException>(() => Anchors.KMeans([(10, 10), (0, 5)], 2));
        Assert.Contains("at least 2 boxes with a positive size, found 1", e.Message);
    }
}
