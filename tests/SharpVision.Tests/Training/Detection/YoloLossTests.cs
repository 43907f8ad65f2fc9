using SharpVision.Models;
using SharpVision.Training.Detection;
using Xunit;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training.Detection;

public class YoloLossTests
{
    // 64 px input: head 0 is a 2x2 grid (stride 32, anchors 3,4,5), head 1 a 4x4 grid (stride 16, anchors 0,1,2).
    private static readonly (float W, float H)[] Anchors = [(4, 4), (8, 8), (12, 12), (26, 26), (30, 30), (60, 60)];

    private static YoloModel Model(IReadOnlyList<(float W, float H)>? anchors = null) =>
        new(YoloCfg.Tiny(2, 64, anchors ?? Anchors, .25), "tiny-test");

    private static Tensor Labels(params float[][] boxes)
    {
        var data = boxes.SelectMany(b => b).ToArray();
        return tensor(data, [1, boxes.Length, 5]);
    }

    private static double Ln2 => Math.Log(2);

    [Fact]
    public void Model_rows_cover_both_heads_in_order()
    {
        using var model = Model();
        Assert.Equal(2, model.Heads.Count);
        Assert.Equal((2, 2, 0), (model.Heads[0].GridH, model.Heads[0].GridW, model.Heads[0].Offset));
        Assert.Equal((4, 4, 12), (model.Heads[1].GridH, model.Heads[1].GridW, model.Heads[1].Offset));
        using var raw = model.call(zeros(1, 3, 64, 64));
        Assert.Equal(new long[] { 1, 60, 7 }, raw.shape);
    }

    [Fact]
    public void Box_goes_to_best_shape_anchor_across_heads_and_to_the_cell_of_its_centre()
    {
        using var model = Model();
        // Given a 28x32 box centred at (40, 20): best shape IoU is anchor 4 (30x30), in head 0 as its 2nd anchor.
        var big = YoloLoss.Assign(model, 26, 4, 54, 36);
        Assert.Equal(new YoloAssignment(0, 1, 1, 0, (1 * 2 + 0) * 2 + 1), big);
        // A 9x7 box centred at (10.5, 50.5) fits anchor 1 (8x8): head 1, cell column 0, row 3.
        var small = YoloLoss.Assign(model, 6, 47, 15, 54);
        Assert.Equal(new YoloAssignment(1, 1, 0, 3, 12 + (1 * 4 + 3) * 4 + 0), small);
        Assert.Equal(4, YoloLoss.BestAnchor(28, 32, Anchors));
    }

    [Fact]
    public void Zero_size_box_is_dropped_and_counted_and_loss_stays_finite()
    {
        using var model = Model();
        using var raw = zeros(1, model.Rows, 7);
        var parts = YoloLoss.Compute(model, raw, Labels([10, 10, 10, 30, 0], [5, 5, 20, 5, 1]));
        Assert.Equal(2, parts.DroppedBoxes);
        Assert.True(float.IsFinite(parts.Total.item<float>()));
        Assert.Equal(0f, parts.Xy.item<float>());
        Assert.Equal(0f, parts.Wh.item<float>());
        // Every row is a negative at logit 0: ln 2 each, and no true box means nothing is ignored.
        Assert.Equal(model.Rows * Ln2, parts.Objectness.item<float>(), 3);
    }

    [Fact]
    public void Xy_and_wh_terms_are_scaled_by_two_minus_normalised_area()
    {
        using var model = Model();
        // Given a box of anchor 4 (30x30) times 1.2 (log-size target ln 1.2), centred in cell (1, 0) of head 0.
        float w = 36, h = 36;
        float cx = 48, cy = 16;
        using var raw = zeros(1, model.Rows, 7);
        var parts = YoloLoss.Compute(model, raw, Labels([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 1]));
        double scale = 2 - (w / 64) * (h / 64);
        // Then xy = 2 * BCE(logit 0) * scale = 2 ln 2 * scale; wh = 0.5 * 2 (ln 1.2)^2 * scale; cls = 2 ln 2.
        Assert.Equal(2 * Ln2 * scale, parts.Xy.item<float>(), 4);
        Assert.Equal(Math.Pow(Math.Log(1.2), 2) * scale, parts.Wh.item<float>(), 4);
        Assert.Equal(2 * Ln2, parts.Class.item<float>(), 4);
        Assert.Equal(0, parts.DroppedBoxes);
    }

    [Fact]
    public void Prediction_overlapping_a_true_box_above_half_is_not_trained_as_background()
    {
        using var model = Model();
        // Given a 30x30 box centred on cell (1, 0) of head 0; at logit 0 the 26x26 anchor's box there has IoU .75.
        using var raw = zeros(1, model.Rows, 7);
        var box = Labels([33, 1, 63, 31, 0]);
        var parts = YoloLoss.Compute(model, raw, box);
        // Then one positive and (rows - 2) negatives count, each ln 2: the 26x26 prediction is ignored.
        Assert.Equal((model.Rows - 1) * Ln2, parts.Objectness.item<float>(), 3);

        // When the neighbour anchor is 20x20 (IoU .44), it is background again.
        using var model2 = Model([(4, 4), (8, 8), (12, 12), (20, 20), (30, 30), (60, 60)]);
        var parts2 = YoloLoss.Compute(model2, raw, box);
        Assert.Equal(model2.Rows * Ln2, parts2.Objectness.item<float>(), 3);
    }

    [Fact]
    public void Loss_gives_gradients_and_decreases_after_a_step()
    {
        manual_seed(1);
        using var model = Model();
        var x = rand(2, 3, 64, 64);
        var labels = tensor(new float[] { 10, 10, 40, 40, 0, 30, 30, 60, 50, 1, 0, 0, 20, 20, 1, -1, -1, -1, -1, -1 }, [2, 2, 5]);
        using var opt = optim.Adam(model.parameters(), 1e-2);
        float first = 0, last = 0;
        for (int i = 0; i < 5; i++)
        {
            opt.zero_grad();
            var p = YoloLoss.Compute(model, model.call(x), labels);
            p.Total.backward();
            opt.step();
            if (i == 0) first = p.Total.item<float>();
            last = p.Total.item<float>();
        }
        Assert.True(last < first, $"loss {first} -> {last}");
    }
}
