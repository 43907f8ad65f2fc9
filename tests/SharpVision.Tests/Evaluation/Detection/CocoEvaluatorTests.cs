using SharpVision.Evaluation.Detection;

namespace SharpVision.Tests.Evaluation.Detection;

/// <summary>
/// Hand-worked COCO cases. Notation: p = 1 / (1 + eps) = 0.9999999999999998 is pycocotools' precision of a
/// lone true positive (it divides by tp + fp + np.spacing(1)); for tp >= 2, tp / (tp + eps) rounds to exactly 1.
/// An AP over IoU 0.50:0.95 is the mean of 10 x 101 precision values (x K categories).
/// </summary>
public class CocoEvaluatorTests
{
    private const double P = 1 / (1 + 2.220446049250313e-16);

    // An AP at one IoU threshold is np.mean of 101 copies of p, and numpy's pairwise summation of those lands one
    // ulp higher than p: 0.9999999999999999 (numpy 1.24: np.mean(np.full(101, p))). Over 1010 copies it is p again.
    private const double P101 = 0.9999999999999999;

    internal static GroundTruthBox Gt(double x, double y, double w, double h, int cat = 1, long img = 1) => new(img, cat, x, y, w, h);
    internal static DetectionBox Dt(double x, double y, double w, double h, double score, int cat = 1, long img = 1) => new(img, cat, x, y, w, h, score);

    internal static DetectionEvalData Set(IEnumerable<GroundTruthBox> gt, IEnumerable<DetectionBox> dt, int categories = 1, int images = 1)
        => new(Enumerable.Range(1, images).Select(i => new DetectionImage(i, $"img{i}.jpg")).ToList(),
               Enumerable.Range(1, categories).Select(c => new DetectionCategory(c, $"class{c}")).ToList(),
               gt.ToList(), dt.ToList());

    [Fact]
    public void Thresholds_are_numpy_linspace_values_not_decimal_ones()
    {
        // np.linspace(.5, .95, 10)[8] and np.linspace(0, 1, 101)[70], as numpy prints them
        Assert.Equal(0.8999999999999999, CocoEvaluator.IouThresholds[8]);
        Assert.Equal(0.75, CocoEvaluator.IouThresholds[5]);
        Assert.Equal(0.7000000000000001, CocoEvaluator.RecallThresholds[70]);
        Assert.Equal(0.6900000000000001, CocoEvaluator.RecallThresholds[69]);
        Assert.Equal(1.0, CocoEvaluator.RecallThresholds[100]);
        Assert.Equal(0.30000000000000004, NumpyCompat.Arange(0, 1.1, 0.1)[3]);
        Assert.Equal(11, NumpyCompat.Arange(0, 1.1, 0.1).Length);
    }

    [Fact]
    public void One_perfect_detection_gives_one_where_defined_and_minus_one_outside_its_area_range()
    {
        // Given one 10x10 ground truth (area 100: small) and the same box detected
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 10, 10)], [Dt(0, 0, 10, 10, 0.9)]));

        // Then every precision value is p, so AP, AP50, AP75 and APs are p (1 up to pycocotools' eps);
        // medium and large hold no ground truth: -1. Recall is 1/1 = 1 exactly.
        Assert.Equal(P, r.AP);
        Assert.Equal(P101, r.AP50);
        Assert.Equal(P101, r.AP75);
        Assert.Equal(P, r.APs);
        Assert.Equal(-1, r.APm);
        Assert.Equal(-1, r.APl);
        Assert.Equal([1.0, 1.0, 1.0, 1.0, -1.0, -1.0], r.Stats.Skip(6));
    }

    [Fact]
    public void Tied_scores_keep_input_order_and_that_order_changes_AP()
    {
        // Given two ground truths and two detections with the same score: one a miss, one a hit
        GroundTruthBox[] gt = [Gt(0, 0, 10, 10), Gt(20, 0, 10, 10)];
        var miss = Dt(50, 50, 10, 10, 0.5);
        var hit = Dt(0, 0, 10, 10, 0.5);

        // When the miss comes first: rc = [0, 0.5], pr = [0, 1/(2+eps) = 0.5] -> envelope [0.5, 0.5];
        // recall thresholds 0..0.50 (51 of them) read 0.5, the 50 above 0.5 read 0: AP = 51*0.5/101 = 25.5/101
        var missFirst = CocoEvaluator.Evaluate(Set(gt, [miss, hit]));
        // When the hit comes first: rc = [0.5, 0.5], pr = [p, 0.5] -> 51 values p: AP ~ 51/101
        var hitFirst = CocoEvaluator.Evaluate(Set(gt, [hit, miss]));

        Assert.Equal(25.5 / 101, missFirst.AP50);
        Assert.Equal(255.0 / 1010, missFirst.AP);
        Assert.Equal(51.0 / 101, hitFirst.AP50, 15);
        Assert.Equal(0.5, missFirst.AR100);
        Assert.Equal(0.5, hitFirst.AR100);
    }

    [Fact]
    public void Over_100_detections_in_one_image_only_the_best_100_count()
    {
        // Given 150 separate 10x10 objects, each detected exactly, scores falling with the index
        var gt = Enumerable.Range(0, 150).Select(i => Gt(i * 20, 0, 10, 10)).ToList();
        var dt = Enumerable.Range(0, 150).Select(i => Dt(i * 20, 0, 10, 10, 1 - i / 1000.0)).ToList();

        var r = CocoEvaluator.Evaluate(Set(gt, dt));

        // Then recall is capped by maxDets: 1/150, 10/150, 100/150 (each the mean of ten equal recalls; numpy's
        // sum of ten 1/150 lands one ulp low: np.mean(np.full(10, 1/150)) = 0.006666666666666666)
        Assert.Equal(0.006666666666666666, r.AR1);
        Assert.Equal(10 / 150.0, r.AR10);
        Assert.Equal(0.6666666666666667, r.AR100); // np.mean(np.full(10, 100/150)), one ulp above 100/150
        // Precision is 1 up to recall 100/150 = 0.667: thresholds 0.00..0.66 (67 of 101) read 1, the rest 0
        Assert.Equal(67.0 / 101, r.AP50);
        Assert.Equal(670.0 / 1010, r.AP);
    }

    [Fact]
    public void Recall_of_exactly_0_7_does_not_reach_the_threshold_0_7000000000000001()
    {
        // Given 10 objects of which the 7 best detections find 7: rc = 0.1 .. 0.7, precision 1 after the first
        var gt = Enumerable.Range(0, 10).Select(i => Gt(i * 20, 0, 10, 10)).ToList();
        var dt = Enumerable.Range(0, 7).Select(i => Dt(i * 20, 0, 10, 10, 0.9 - i / 100.0)).ToList();

        var r = CocoEvaluator.Evaluate(Set(gt, dt));

        // Then 0.7 < 0.7000000000000001 = recThrs[70]: only thresholds 0..69 (70 values) read 1 -> 70/101, not 71/101
        Assert.Equal(70.0 / 101, r.AP50);
        Assert.Equal(0.7, r.AR100);
    }

    [Fact]
    public void Categories_missing_on_either_side_are_minus_one_or_zero_and_detections_of_unknown_categories_are_ignored()
    {
        // Given category 1 found perfectly, category 2 with ground truth and no detection, category 3 with a
        // detection but no ground truth, and a detection of category 99 that the ground truth does not list
        var data = Set(
            [Gt(0, 0, 10, 10, cat: 1), Gt(30, 0, 10, 10, cat: 2)],
            [Dt(0, 0, 10, 10, 0.9, cat: 1), Dt(60, 0, 10, 10, 0.8, cat: 3), Dt(30, 0, 10, 10, 0.99, cat: 99)],
            categories: 3);

        var r = CocoEvaluator.Evaluate(data);

        // Then category 1 has AP p, category 2 AP 0 (no detection: precision 0, recall 0), category 3 -1 and
        // out of the means: AP = mean(p, 0) ~ 0.5, AR = mean(1, 0) = 0.5 exactly
        Assert.Equal(P, r.CategoryAP(0));
        Assert.Equal(0, r.CategoryAP(1));
        Assert.Equal(-1, r.CategoryAP(2));
        Assert.Equal(0.5, r.AP, 15);
        Assert.Equal(0.5, r.AR100);
        Assert.Equal(0.5, r.AR1);
    }

    [Fact]
    public void Detection_on_an_image_without_ground_truth_is_a_false_positive()
    {
        // Given image 1 with a found object (score 0.8) and image 2, with no objects, holding a detection scored 0.9
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 10, 10)], [Dt(0, 0, 10, 10, 0.8), Dt(0, 0, 10, 10, 0.9, img: 2)], images: 2));

        // Then across images the false positive comes first: rc = [0, 1], pr = [0, 0.5] -> envelope 0.5 everywhere
        Assert.Equal(0.5, r.AP);
        Assert.Equal(1.0, r.AR100);
    }

    [Fact]
    public void IoU_exactly_0_5_matches_at_threshold_0_5_only()
    {
        // Given a 10x10 object and a 5x10 detection in it: IoU = 50 / 100 = 0.5 exactly
        Assert.Equal(0.5, CocoEvaluator.Iou(0, 0, 5, 10, 0, 0, 10, 10, crowd: false));
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 10, 10)], [Dt(0, 0, 5, 10, 0.9)]));

        // Then it is a hit at IoU >= 0.5 only: AP50 = p, AP75 = 0, AP = 101 p / 1010, AR = 1/10 (one threshold of ten)
        Assert.Equal(P101, r.AP50);
        Assert.Equal(0, r.AP75);
        Assert.Equal(0.1, r.AP, 15);
        Assert.Equal(0.1, r.AR100);
    }

    [Fact]
    public void IoU_exactly_0_75_matches_up_to_threshold_0_75()
    {
        // Given a 4x4 object and a 4x3 detection in it: IoU = 12 / 16 = 0.75 exactly
        Assert.Equal(0.75, CocoEvaluator.Iou(0, 0, 4, 3, 0, 0, 4, 4, crowd: false));
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 4, 4)], [Dt(0, 0, 4, 3, 0.9)]));

        // Then it matches at 0.50, 0.55, 0.60, 0.65, 0.70, 0.75 (6 of 10 thresholds): AP = 606 p / 1010 ~ 0.6
        Assert.Equal(P101, r.AP75);
        Assert.Equal(0.6, r.AP, 15);
        Assert.Equal(0.6, r.AR100);
    }

    [Fact]
    public void Sub_pixel_boxes_use_plain_w_times_h_areas()
    {
        // Given a 0.5 x 0.5 object at (0.25, 0.5) and a 0.5 x 0.375 detection at the same corner (dyadic, exact):
        // intersection 0.5 * 0.375 = 0.1875, union 0.1875 + 0.25 - 0.1875 = 0.25, IoU 0.75
        Assert.Equal(0.75, CocoEvaluator.Iou(0.25, 0.5, 0.5, 0.375, 0.25, 0.5, 0.5, 0.5, crowd: false));
        // and a 0.25 x 0.5 one: 0.125 / 0.25 = 0.5
        Assert.Equal(0.5, CocoEvaluator.Iou(0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.5, 0.5, crowd: false));

        var r = CocoEvaluator.Evaluate(Set([Gt(0.25, 0.5, 0.5, 0.5)], [Dt(0.25, 0.5, 0.5, 0.375, 0.9)]));

        // Then as for whole pixels: 6 of 10 thresholds, and the object is small
        Assert.Equal(0.6, r.AP, 15);
        Assert.Equal(0.6, r.ARs);
        Assert.Equal(-1, r.APm);
    }

    [Fact]
    public void Crowd_regions_absorb_detections_without_counting_as_objects()
    {
        // Given a normal object, a 50x50 crowd region, a perfect detection and two small detections inside the crowd
        var crowd = Gt(100, 100, 50, 50) with { IsCrowd = true };
        var data = Set([Gt(0, 0, 10, 10), crowd],
            [Dt(0, 0, 10, 10, 0.9), Dt(110, 110, 10, 10, 0.8), Dt(120, 120, 10, 10, 0.7)]);

        // The crowd's IoU is intersection / detection area = 100 / 100 = 1, so both match it (a crowd may match
        // again) and are ignored; the crowd is not an object to find (npig = 1)
        Assert.Equal(1.0, CocoEvaluator.Iou(110, 110, 10, 10, 100, 100, 50, 50, crowd: true));
        var r = CocoEvaluator.Evaluate(data);

        // Then only the true positive counts: precision p everywhere, recall 1
        Assert.Equal(P, r.AP);
        Assert.Equal(1.0, r.AR100);

        // Without the crowd flag they are false positives after the hit: envelope keeps p up to recall 1 -> still p,
        // but a 50x50 region is then an object never found: recall 1/2
        var plain = CocoEvaluator.Evaluate(data with { GroundTruth = [Gt(0, 0, 10, 10), Gt(100, 100, 50, 50)] });
        Assert.Equal(0.5, plain.AR100);
    }

    [Fact]
    public void Area_ranges_use_the_annotation_area_and_ignore_unmatched_detections_outside_the_range()
    {
        // Given a 10x10 object and two detections: a 50x50 miss (area 2500, medium) scored 0.9 and a hit scored 0.5
        var data = Set([Gt(0, 0, 10, 10)], [Dt(200, 200, 50, 50, 0.9), Dt(0, 0, 10, 10, 0.5)]);
        var r = CocoEvaluator.Evaluate(data);

        // all: fp then tp -> rc [0, 1], pr [0, 0.5] -> 0.5 everywhere. small: the medium miss is ignored -> p.
        // medium: the object is outside the range, so nothing to find: -1.
        Assert.Equal(0.5, r.AP);
        Assert.Equal(P, r.APs);
        Assert.Equal(-1, r.APm);

        // Given the same object annotated with area 2000 (as COCO's segment areas, not w*h): it is medium now
        var medium = CocoEvaluator.Evaluate(data with { GroundTruth = [Gt(0, 0, 10, 10) with { Area = 2000 }] });
        Assert.Equal(-1, medium.APs);
        Assert.Equal(0.5, medium.APm); // the medium miss counts again in the medium range
        Assert.Equal(1.0, medium.ARm);
    }

    [Fact]
    public void Area_range_ends_are_inclusive()
    {
        // Given an object of area exactly 32^2 = 1024: both small [0, 1024] and medium [1024, 9216] hold it
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 32, 32)], [Dt(0, 0, 32, 32, 0.9)]));

        Assert.Equal(P, r.APs);
        Assert.Equal(P, r.APm);
        Assert.Equal(-1, r.APl);
    }

    [Fact]
    public void A_detection_takes_the_best_still_unmatched_ground_truth()
    {
        // Given two overlapping objects A = [0,0,10,10] and B = [2,0,10,10] and detections D1 = A (0.9), D2 = [1,0,10,10] (0.8)
        // IoU(D2, A) = 90/110 = 0.818, IoU(D2, B) = 90/110 = 0.818: D1 takes A (IoU 1), D2 then takes B.
        var r = CocoEvaluator.Evaluate(Set([Gt(0, 0, 10, 10), Gt(2, 0, 10, 10)], [Dt(0, 0, 10, 10, 0.9), Dt(1, 0, 10, 10, 0.8)]));

        // Then at IoU <= 0.80 both are found (recall 1); at 0.85..0.95 only D1 (recall 1/2):
        // AR = (7 * 1 + 3 * 0.5) / 10 = 0.85
        Assert.Equal(0.85, r.AR100, 15);
        // tp = 2 after D2, and 2 / (2 + eps) rounds to 1, which the envelope carries back to D1: AP50 = 1 exactly
        Assert.Equal(1.0, r.AP50);
    }
}
