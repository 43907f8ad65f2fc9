using SharpVision.Evaluation.Detection;
using static SharpVision.Tests.Evaluation.Detection.CocoEvaluatorTests;

namespace SharpVision.Tests.Evaluation.Detection;

public class VocEvaluatorTests
{
    [Fact]
    public void Eleven_point_and_all_point_AP_differ_on_a_dip_in_precision()
    {
        // Given two objects and detections hit (0.9), miss (0.8), hit (0.7):
        // rec = [0.5, 0.5, 1], prec = [1, 0.5, 2/3]
        var data = Set([Gt(0, 0, 10, 10), Gt(20, 0, 10, 10)],
            [Dt(0, 0, 10, 10, 0.9), Dt(50, 50, 10, 10, 0.8), Dt(20, 0, 10, 10, 0.7)]);

        var r = VocEvaluator.Evaluate(data).Classes[0];

        // All-point: envelope [1, 1, 2/3, 2/3, 0] over mrec [0, .5, .5, 1, 1]: 0.5 * 1 + 0.5 * 2/3 = 5/6
        Assert.Equal(5.0 / 6, r.Ap12, 15);
        // 11-point: t = 0 .. 0.5 (6 points) best precision 1; t = 0.6 .. 1 (5 points) 2/3: (6 + 10/3) / 11 = 28/33
        Assert.Equal(28.0 / 33, r.Ap07, 15);
        Assert.Equal([0.5, 0.5, 1.0], r.Recall);
        Assert.Equal(2, r.Positives);
    }

    [Fact]
    public void IoU_exactly_0_5_with_plus_one_areas_is_not_a_match()
    {
        // Given corners (0,0)-(9,9): 10x10 = 100 pixels; a detection (0,0)-(4,9): 5x10 = 50 pixels inside it
        // IoU = 50 / 100 = 0.5, and voc_eval needs ovmax > 0.5 strictly
        Assert.Equal(0.5, VocEvaluator.Iou(0, 0, 4, 9, 0, 0, 9, 9));
        var r = VocEvaluator.Evaluate(Set([Gt(0, 0, 9, 9)], [Dt(0, 0, 4, 9, 0.9)]));

        // Then the detection is a false positive: AP 0 by both rules
        Assert.Equal(0, r.Map12);
        Assert.Equal(0, r.Map07);
    }

    [Fact]
    public void Coco_IoU_0_5_box_pair_is_a_VOC_match_because_of_the_plus_one_convention()
    {
        // Given [0,0,10,10] and [0,0,5,10]: COCO IoU 50/100 = 0.5, VOC (11x11, 6x11) 66/121 = 0.545 > 0.5
        Assert.Equal(66.0 / 121, VocEvaluator.Iou(0, 0, 5, 10, 0, 0, 10, 10));
        var r = VocEvaluator.Evaluate(Set([Gt(0, 0, 10, 10)], [Dt(0, 0, 5, 10, 0.9)]));

        // Then it is a true positive: AP12 = 1; AP07 adds 1/11 eleven times = 1.0000000000000002 (as voc_eval)
        Assert.Equal(1.0, r.Map12);
        Assert.Equal(1.0000000000000002, r.Map07);
    }

    [Fact]
    public void Second_detection_of_a_taken_object_is_a_false_positive_even_if_another_object_overlaps()
    {
        // Given A = (0,0)-(9,9) and B = (0,0)-(9,7) (B inside A); D1 = A (0.9) takes A; D2 = A (0.8) again:
        // its best overlap is A (IoU 1 > 80/100), already taken -> false positive (no fall back to B)
        var r = VocEvaluator.Evaluate(Set([Gt(0, 0, 9, 9), Gt(0, 0, 9, 7)], [Dt(0, 0, 9, 9, 0.9), Dt(0, 0, 9, 9, 0.8)])).Classes[0];

        // rec = [0.5, 0.5], prec = [1, 0.5]: AP12 = 0.5 * 1 = 0.5
        Assert.Equal([1.0, 0.5], r.Precision);
        Assert.Equal(0.5, r.Ap12);
    }

    [Fact]
    public void Difficult_objects_are_neither_positives_nor_false_positives()
    {
        // Given a normal object found and a difficult one also detected (higher score)
        var data = Set([Gt(0, 0, 9, 9), Gt(20, 0, 9, 9) with { Difficult = true }],
            [Dt(20, 0, 9, 9, 0.95), Dt(0, 0, 9, 9, 0.9)]);

        var r = VocEvaluator.Evaluate(data).Classes[0];

        // Then npos = 1 and only the normal hit counts: AP 1
        Assert.Equal(1, r.Positives);
        Assert.Equal(1.0, r.Ap12);
    }

    [Fact]
    public void Classes_without_ground_truth_are_minus_one_and_left_out_of_the_mean()
    {
        // Given class 1 found, class 2 missed, class 3 only detected
        var data = Set([Gt(0, 0, 9, 9, cat: 1), Gt(30, 0, 9, 9, cat: 2)],
            [Dt(0, 0, 9, 9, 0.9, cat: 1), Dt(60, 0, 9, 9, 0.8, cat: 3)], categories: 3);

        var r = VocEvaluator.Evaluate(data);

        Assert.Equal([1.0, 0.0, -1.0], r.Classes.Select(c => c.Ap12));
        Assert.Equal(0.5, r.Map12);
    }

    [Fact]
    public void VOC_has_no_detection_limit_per_image()
    {
        // Given 150 objects each found (see the COCO maxDets test, where only 100 count)
        var gt = Enumerable.Range(0, 150).Select(i => Gt(i * 20, 0, 10, 10)).ToList();
        var dt = Enumerable.Range(0, 150).Select(i => Dt(i * 20, 0, 10, 10, 1 - i / 1000.0)).ToList();

        Assert.Equal(1.0, VocEvaluator.Evaluate(Set(gt, dt)).Map12);
    }
}
